package io.shardline.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.TxnState;

class RestoredIntentsTest {

    private static final long MOMENT = 1_000_000L;
    private static final TxnDecisions.Decided COMMITTED_BEFORE = new TxnDecisions.Decided(TxnState.COMMITTED, MOMENT - 5);
    private static final TxnDecisions.Decided COMMITTED_AT = new TxnDecisions.Decided(TxnState.COMMITTED, MOMENT);
    private static final TxnDecisions.Decided COMMITTED_AFTER = new TxnDecisions.Decided(TxnState.COMMITTED, MOMENT + 5);
    private static final TxnDecisions.Decided ABORTED_BEFORE = new TxnDecisions.Decided(TxnState.ABORTED, MOMENT - 5);

    /** As a restore reads it from its stage: a raw, immutable document. */
    private static BsonDocument held(String op, String next) {
        return new org.bson.RawBsonDocument(parsed(op, next), new org.bson.codecs.BsonDocumentCodec());
    }

    private static BsonDocument parsed(String op, String next) {
        return BsonDocument.parse("{_id: 'u1', v: 1, tenantId: 'acme', _sk: 'ab12', _tx: {id: 't1', op: '" + op + "', p: 7, r: 'router-1', t: 5"
            + (next == null ? "" : ", new: " + next) + "}}");
    }

    private static final String PLAIN = "{_id: 'u1', v: 1, tenantId: 'acme', _sk: 'ab12'}";

    @Test
    void shouldLeaveAnUpdateCommittedByTheMomentWithItsNewValueAndTheStoredShardKey() {
        BsonDocument stored = held("UPDATE", "{_id: 'u1', v: 2, tenantId: 'acme', extra: true}");

        RestoredIntents.Resolution committed = RestoredIntents.resolve(stored, COMMITTED_BEFORE, MOMENT);
        assertThat(committed).isEqualTo(new RestoredIntents.Replace(BsonDocument.parse("{_id: 'u1', v: 2, tenantId: 'acme', extra: true, _sk: 'ab12'}")));
        assertThat(RestoredIntents.resolve(stored, COMMITTED_AT, MOMENT)).as("decided at the moment itself").isEqualTo(committed);
    }

    @Test
    void shouldLeaveTheOldValueWhenTheTransactionWasAbortedOrCommittedOnlyAfterTheMoment() {
        for (TxnDecisions.Decided decision : new TxnDecisions.Decided[] {COMMITTED_AFTER, ABORTED_BEFORE}) {
            assertThat(RestoredIntents.resolve(held("UPDATE", "{_id: 'u1', v: 2}"), decision, MOMENT)).as("%s", decision)
                .isEqualTo(new RestoredIntents.Replace(BsonDocument.parse(PLAIN)));
            assertThat(RestoredIntents.resolve(held("DELETE", null), decision, MOMENT)).as("%s", decision)
                .isEqualTo(new RestoredIntents.Replace(BsonDocument.parse(PLAIN)));
            assertThat(RestoredIntents.resolve(held("LOCK", null), decision, MOMENT)).as("%s", decision)
                .isEqualTo(new RestoredIntents.Replace(BsonDocument.parse(PLAIN)));
            assertThat(RestoredIntents.resolve(held("INSERT", null), decision, MOMENT)).as("an insert not committed by the moment: %s", decision)
                .isEqualTo(new RestoredIntents.Delete(new org.bson.BsonString("u1")));
        }
    }

    @Test
    void shouldDeleteWhatADeleteCommittedAndKeepWhatAnInsertCommitted() {
        assertThat(RestoredIntents.resolve(held("DELETE", null), COMMITTED_BEFORE, MOMENT)).isEqualTo(new RestoredIntents.Delete(new org.bson.BsonString("u1")));
        assertThat(RestoredIntents.resolve(held("INSERT", null), COMMITTED_BEFORE, MOMENT)).isEqualTo(new RestoredIntents.Replace(BsonDocument.parse(PLAIN)));
        assertThat(RestoredIntents.resolve(held("LOCK", null), COMMITTED_BEFORE, MOMENT)).isEqualTo(new RestoredIntents.Replace(BsonDocument.parse(PLAIN)));
    }

    @Test
    void shouldKeepTheIntentOfATransactionWhoseDecisionIsNotKnown() {
        assertThat(RestoredIntents.resolve(held("UPDATE", "{_id: 'u1', v: 2}"), null, MOMENT)).isEqualTo(new RestoredIntents.Keep("t1"));
        assertThat(RestoredIntents.holder(held("LOCK", null))).isEqualTo("t1");
        assertThat(RestoredIntents.holder(BsonDocument.parse(PLAIN))).isNull();
    }

    @Test
    void shouldRefuseAnIntentItCannotReadNamingTheField() {
        assertThatThrownBy(() -> RestoredIntents.resolve(held("MOVE", null), COMMITTED_BEFORE, MOMENT)).isInstanceOf(BackupException.class)
            .hasMessageContaining("_tx.op").hasMessageContaining("MOVE");
        assertThatThrownBy(() -> RestoredIntents.resolve(held("UPDATE", null), COMMITTED_BEFORE, MOMENT)).isInstanceOf(BackupException.class)
            .hasMessageContaining("_tx.new");
    }
}
