package io.shardline.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientOptionsTest {

    private static final String FILE = """
        kafka:
          bootstrap: kafka-from-file:9092
          registry: http://registry-from-file:8080
        shards:
          - {id: s1, uri: "mongodb://m1", capacityBytes: 1, capacityOpsPerSec: 1}
        namespaces:
          - {namespace: a.b, strategy: hashed, shardKey: [k]}
        """;

    @Test
    void shouldTakeTheOptionThenTheEnvironmentThenTheClusterFileThenTheDefault(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("shardline.yaml"), FILE);
        ClientOptions options = new ClientOptions().withEnvironment(Map.of("SHARDLINE_CONFIG", file.toString(),
            "SHARDLINE_REGISTRY_URL", "http://registry-from-env:8081/apis/ccompat/v7"));
        options.topicPrefix = "from-option.";

        assertThat(options.topicPrefix()).isEqualTo("from-option.");
        assertThat(options.registry()).isEqualTo("http://registry-from-env:8081/apis/ccompat/v7");
        assertThat(options.catalog().shards().name()).isEqualTo("from-option.shards");
        assertThat(options.bootstrap()).isEqualTo("kafka-from-file:9092");

        ClientOptions bare = new ClientOptions().withEnvironment(Map.of());
        assertThat(bare.bootstrap()).isEqualTo(ClientOptions.DEFAULT_BOOTSTRAP);
        assertThat(bare.topicPrefix()).isEqualTo("shardline.");
        assertThat(bare.file()).isNull();
    }
}
