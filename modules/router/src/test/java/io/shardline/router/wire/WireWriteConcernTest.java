package io.shardline.router.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.shardline.router.api.Scope;
import io.shardline.schemas.avro.WriteDurability;

/** How a driver's write concern asks for a durability. */
class WireWriteConcernTest {

    @Test
    void shouldWaitForTheStandbyOnMajorityOrMoreThanOneMemberAndNotOnOne() {
        assertThat(WireWriteConcern.durability("majority")).isEqualTo(WriteDurability.STANDBY);
        assertThat(WireWriteConcern.durability(2)).isEqualTo(WriteDurability.STANDBY);
        assertThat(WireWriteConcern.durability(1)).isEqualTo(WriteDurability.PRIMARY);
        assertThat(WireWriteConcern.durability(0)).isEqualTo(WriteDurability.PRIMARY);
        assertThat(WireWriteConcern.durability(1.0)).isEqualTo(WriteDurability.PRIMARY);
        assertThat(WireWriteConcern.durability(null)).as("no w: the namespace's own").isNull();
    }

    @Test
    void shouldKeepTheSessionsCallerAndTheNamespacesDurabilityWithoutAWriteConcern() {
        WireSession session = new WireSession(1, "test", Scope.tenant("acme"));

        assertThat(WireWriteConcern.scope(session, new Document("insert", "users"))).isEqualTo(Scope.tenant("acme"));
        assertThat(WireWriteConcern.scope(session, new Document("insert", "users").append("writeConcern", new Document("j", true))))
            .isEqualTo(Scope.tenant("acme"));
        assertThat(WireWriteConcern.scope(session, new Document("insert", "users").append("writeConcern", new Document("w", 1))))
            .isEqualTo(Scope.tenant("acme").withDurability(WriteDurability.PRIMARY));
    }

    @Test
    void shouldRefuseAWriteConcernItCannotHonourNamingTheField() {
        assertThatThrownBy(() -> WireWriteConcern.durability("dc-east")).isInstanceOf(WireCommandException.class)
            .hasMessageStartingWith("writeConcern.w: 'dc-east'");
        assertThatThrownBy(() -> WireWriteConcern.durability(-1)).isInstanceOf(WireCommandException.class)
            .hasMessageStartingWith("writeConcern.w:");
        assertThatThrownBy(() -> WireWriteConcern.scope(new WireSession(1, "test", Scope.service()),
            new Document("insert", "users").append("writeConcern", "majority")))
            .isInstanceOf(WireCommandException.class).hasMessage("writeConcern: must be a document");
    }
}
