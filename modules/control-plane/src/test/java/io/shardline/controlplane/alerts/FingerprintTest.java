package io.shardline.controlplane.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

class FingerprintTest {

    @Test
    void shouldBeTheSameForTheSameLabelsInAnyOrder() {
        Map<String, String> one = new LinkedHashMap<>();
        one.put("alertname", "ShardDown");
        one.put("shard", "s1");
        Map<String, String> other = new LinkedHashMap<>();
        other.put("shard", "s1");
        other.put("alertname", "ShardDown");

        assertThat(Fingerprint.of(one)).isEqualTo(Fingerprint.of(other)).hasSize(16).matches("[0-9a-f]{16}");
    }

    @Test
    void shouldDifferWhenANameOrAValueDiffers() {
        String s1 = Fingerprint.of(Map.of("alertname", "ShardDown", "shard", "s1"));

        assertThat(Fingerprint.of(Map.of("alertname", "ShardDown", "shard", "s2"))).isNotEqualTo(s1);
        assertThat(Fingerprint.of(Map.of("alertname", "BackupStale", "shard", "s1"))).isNotEqualTo(s1);
        assertThat(Fingerprint.of(Map.of("alertname", "ShardDown", "shard", "s1", "severity", "critical"))).isNotEqualTo(s1);
    }

    @Test
    void shouldNotConfuseWhereOneLabelEndsAndTheNextBegins() {
        assertThat(Fingerprint.of(Map.of("a", "b=c"))).isNotEqualTo(Fingerprint.of(Map.of("a=b", "c")));
        assertThat(Fingerprint.of(Map.of("a", "x", "b", "y"))).isNotEqualTo(Fingerprint.of(Map.of("a", "x\0b=y")))
            .isNotEqualTo(Fingerprint.of(Map.of("a", "x=b", "y", "")));
    }

    @Test
    void shouldStayTheSameAcrossVersionsSinceTheAlertsTopicIsKeyedByIt() {
        // SHA-256 of alertname 0xff ShardDown 0xff shard 0xff s1 0xff, its first 8 bytes in hex.
        assertThat(Fingerprint.of(Map.of("shard", "s1", "alertname", "ShardDown"))).isEqualTo(sha256Prefix("alertname", "ShardDown", "shard", "s1"));
    }

    private static String sha256Prefix(String... parts) {
        try {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (String part : parts) {
                bytes.writeBytes(part.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                bytes.write(0xff);
            }
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray());
            return java.util.HexFormat.of().formatHex(digest, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
