package io.shardline.worker.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class WriteTimelineTest {

    private static final WriteLedger.Key A = new WriteLedger.Key("auth.users", "a");
    private static final WriteLedger.Key B = new WriteLedger.Key("auth.users", "b");

    @Test
    void shouldKnowTheValuesADocumentCouldHoldAtEachMoment() {
        WriteTimeline timeline = new WriteTimeline();
        timeline.sent(A, 1, 100);
        timeline.acknowledged(A, 1, 110);
        timeline.sent(A, 2, 200);
        timeline.acknowledged(A, 2, 210);
        timeline.sent(A, WriteLedger.DELETED, 300);

        assertThat(timeline.possibleAt(A, 99)).containsExactly(WriteLedger.DELETED);
        assertThat(timeline.possibleAt(A, 105)).containsExactlyInAnyOrder(WriteLedger.DELETED, 1);
        assertThat(timeline.possibleAt(A, 150)).containsExactly(1);
        assertThat(timeline.possibleAt(A, 205)).containsExactlyInAnyOrder(1, 2);
        assertThat(timeline.possibleAt(A, 250)).containsExactly(2);
        assertThat(timeline.possibleAt(A, 400)).as("a delete never acknowledged: either").containsExactlyInAnyOrder(2, WriteLedger.DELETED);
    }

    @Test
    void shouldTellADocumentsLastWritesWithTheirTimes() {
        WriteTimeline timeline = new WriteTimeline();
        timeline.sent(A, 1, 100);
        timeline.acknowledged(A, 1, 110);
        timeline.sent(A, 2, 3_600_000 + 200);
        timeline.acknowledged(A, 2, 3_600_000 + 1_210);
        timeline.sent(A, WriteLedger.DELETED, 7_200_000);

        assertThat(timeline.history(A, 2)).isEqualTo("v=2 sent " + clock(3_600_000 + 200) + " acked " + clock(3_600_000 + 1_210)
            + "; v=-1 sent " + clock(7_200_000) + " not acked");
        assertThat(timeline.history(A, 5)).startsWith("v=1 sent " + clock(100) + " acked " + clock(110) + "; ");
        assertThat(timeline.history(B, 5)).isEqualTo("no write recorded");
    }

    @Test
    void shouldFindMissingWrongDuplicatedAndUnknownDocuments() {
        WriteTimeline timeline = new WriteTimeline();
        timeline.sent(A, 1, 100);
        timeline.acknowledged(A, 1, 110);
        timeline.sent(B, 5, 100);
        timeline.acknowledged(B, 5, 110);

        assertThat(timeline.checkAt(150, Map.of(A, List.of(1), B, List.of(5))).clean()).isTrue();
        WriteTimeline.Verdict verdict = timeline.checkAt(150, Map.of(A, List.of(2, 1), new WriteLedger.Key("auth.users", "c"), List.of(3)));
        assertThat(verdict.missing()).isEqualTo(1);
        assertThat(verdict.wrong()).isEqualTo(1);
        assertThat(verdict.duplicated()).isEqualTo(1);
        assertThat(verdict.unknown()).isEqualTo(1);
        assertThat(timeline.checkAt(50, Map.of()).clean()).as("before anything was written, nothing is missing").isTrue();
    }

    @Test
    void shouldTakeADocumentRestoredUnderAnIntentAsEitherOfItsValues() {
        WriteTimeline timeline = new WriteTimeline();
        timeline.sent(A, 1, 100);
        timeline.acknowledged(A, 1, 110);
        timeline.sent(A, WriteLedger.DELETED, 200); // a transaction's delete, acknowledged at its decision
        timeline.acknowledged(A, WriteLedger.DELETED, 210);

        // Restored at 220 still holding the delete's intent (resolved after the commit answered).
        assertThat(timeline.checkAt(220, Map.of(A, List.of(1))).wrong()).as("read as stored").isEqualTo(1);
        assertThat(timeline.checkAt(220, Map.of(A, List.of(1)), Map.of(A, java.util.Set.of(1, WriteLedger.DELETED))).clean()).isTrue();
        assertThat(timeline.checkAt(220, Map.of(A, List.of(1)), Map.of(A, java.util.Set.of(1, 7))).wrong())
            .as("an intent whose outcome the writes do not allow").isEqualTo(1);
    }

    /** The time of day the history prints for {@code epochMillis}: the processes' local time. */
    private static String clock(long epochMillis) {
        return java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(java.time.ZoneId.systemDefault())
            .format(java.time.Instant.ofEpochMilli(epochMillis));
    }
}
