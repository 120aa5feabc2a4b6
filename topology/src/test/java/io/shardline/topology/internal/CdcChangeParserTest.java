package io.shardline.topology.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CdcChangeParserTest {

    private final CdcChangeParser parser = new CdcChangeParser("cdc");

    @Test
    void shouldReadShardNamespaceAndKeyFromADebeziumRecord() {
        CdcChange change = parser.parse("cdc.s1.auth.audit_entries", "{\"id\":\"{\\\"$oid\\\": \\\"65f0c0ffee0000000000abcd\\\"}\"}",
            "{\"op\":\"c\",\"after\":\"{\\\"_id\\\": 1}\"}");

        assertThat(change.shardId()).isEqualTo("s1");
        assertThat(change.namespace()).isEqualTo("auth.audit_entries");
        assertThat(change.documentKey()).isEqualTo("{\"$oid\": \"65f0c0ffee0000000000abcd\"}");
        assertThat(change.op()).isEqualTo(CdcChange.Op.CREATE);
        assertThat(change.postImageSize()).isEqualTo(14);
    }

    @Test
    void shouldNameTheFieldOfEveryKindOfMalformedRecord() {
        assertThatThrownBy(() -> parser.parse("cdc.s1", "{\"id\":\"1\"}", "{\"op\":\"d\"}")).hasMessageContaining("'topic'");
        assertThatThrownBy(() -> parser.parse("cdc.s1.db.c", "[1]", "{\"op\":\"d\"}")).hasMessageContaining("'key'");
        assertThatThrownBy(() -> parser.parse("cdc.s1.db.c", "{\"id\":\"1\"}", "{\"op\":\"x\"}")).hasMessageContaining("'op'");
        assertThatThrownBy(() -> parser.parse("cdc.s1.db.c", "{\"id\":\"1\"}", "{\"op\":\"u\"}")).hasMessageContaining("'after'");
        assertThatThrownBy(() -> parser.parse("cdc.s1.db.c", "{\"id\":\"1\"}", null)).hasMessageContaining("'value'");
    }
}
