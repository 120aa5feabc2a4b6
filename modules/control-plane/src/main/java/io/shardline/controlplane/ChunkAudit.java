package io.shardline.controlplane;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.avro.AcknowledgedCount;
import io.shardline.schemas.avro.ChunkRoute;

/**
 * Holds the documents each chunk's owner holds against what the routers acknowledged for that chunk: documents they
 * inserted or upserted minus documents their deletes removed ({@link AcknowledgedCount}, per chunk range as routed at
 * the time). Counts recorded for a range that has been split since cover several chunks of today; those chunks are
 * audited together, as one group. The audit sees documents lost (the owner holds fewer than acknowledged: deleted
 * behind the routers' back, or by a range deletion on the wrong shard) and documents no router acknowledged (more than
 * acknowledged: written around the routers, or copied where they do not belong). It does not see a document whose
 * content changed, or one lost while another appeared in the same group; writes that failed after reaching a shard
 * make a difference up to their number uncertain rather than wrong.
 */
public final class ChunkAudit {

    /** What a group of chunks shows. */
    public enum Status {
        /** The owners hold as many documents as acknowledged. */
        OK,
        /** The difference is no larger than the writes whose outcome is unknown. */
        UNCERTAIN,
        /** The owners hold fewer documents than acknowledged. */
        LOST,
        /** The owners hold more documents than any router acknowledged. */
        UNACKNOWLEDGED
    }

    /**
     * One or more adjacent chunks audited together, with the acknowledged figure and the owners' documents.
     *
     * @param chunks    the chunks, in key order
     * @param expected  acknowledged documents: added minus removed
     * @param uncertain writes whose effect on the count is unknown
     * @param found     documents the owners hold in these chunks
     */
    public record Group(List<ChunkRoute> chunks, long expected, long uncertain, long found) {

        public long difference() {
            return found - expected;
        }

        public Status status() {
            long difference = difference();
            if (difference == 0) {
                return Status.OK;
            }
            if (Math.abs(difference) <= uncertain) {
                return Status.UNCERTAIN;
            }
            return difference < 0 ? Status.LOST : Status.UNACKNOWLEDGED;
        }

        /** How an operator reads the status. */
        public String describe() {
            return switch (status()) {
                case OK -> "ok";
                case UNCERTAIN -> "uncertain " + difference() + " (" + uncertain + " writes of unknown outcome)";
                case LOST -> "LOST " + -difference() + " acknowledged document" + (difference() == -1 ? "" : "s");
                case UNACKNOWLEDGED -> difference() + " document" + (difference() == 1 ? "" : "s") + " no router acknowledged";
            };
        }
    }

    private ChunkAudit() {
    }

    /**
     * @param routes the namespace's chunks
     * @param counts every router's acknowledged counts of the namespace
     * @param found  documents on each chunk's owner, by the chunk's min in hex
     */
    public static List<Group> audit(Collection<ChunkRoute> routes, Collection<AcknowledgedCount> counts, Map<String, Long> found) {
        List<ChunkRoute> chunks = new ArrayList<>(routes);
        chunks.sort(Comparator.comparing(route -> KeyHex.of(route.getMin())));
        int[] groupOf = new int[chunks.size()];
        for (int i = 0; i < groupOf.length; i++) {
            groupOf[i] = i;
        }
        // A count recorded for a range that covers several chunks today joins them into one group.
        for (AcknowledgedCount count : counts) {
            int first = -1;
            int last = -1;
            for (int i = 0; i < chunks.size(); i++) {
                if (overlaps(chunks.get(i), count.getChunkMin(), count.getChunkMax())) {
                    first = first < 0 ? i : first;
                    last = i;
                }
            }
            for (int i = first + 1; first >= 0 && i <= last; i++) {
                int from = groupOf[i];
                int into = groupOf[first];
                for (int j = 0; j < groupOf.length; j++) {
                    if (groupOf[j] == from) {
                        groupOf[j] = into;
                    }
                }
            }
        }
        List<Group> groups = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            if (i > 0 && groupOf[i] == groupOf[i - 1]) {
                continue;
            }
            List<ChunkRoute> members = new ArrayList<>();
            for (int j = i; j < chunks.size() && groupOf[j] == groupOf[i]; j++) {
                members.add(chunks.get(j));
            }
            long expected = 0;
            long uncertain = 0;
            for (AcknowledgedCount count : counts) {
                if (members.stream().anyMatch(chunk -> overlaps(chunk, count.getChunkMin(), count.getChunkMax()))) {
                    expected += count.getAdded() - count.getRemoved();
                    uncertain += count.getUncertain();
                }
            }
            long held = members.stream().mapToLong(chunk -> found.getOrDefault(KeyHex.of(chunk.getMin()), 0L)).sum();
            groups.add(new Group(members, expected, uncertain, held));
        }
        return groups;
    }

    /** Whether the range {@code [min, max)} ({@code max} null for +infinity) overlaps the chunk. */
    public static boolean overlaps(ChunkRoute chunk, ByteBuffer min, ByteBuffer max) {
        String chunkMin = KeyHex.of(chunk.getMin());
        String chunkMax = KeyHex.of(chunk.getMax());
        String countMin = KeyHex.of(min);
        String countMax = KeyHex.of(max);
        boolean startsBeforeChunkEnds = chunkMax == null || countMin.compareTo(chunkMax) < 0;
        boolean endsAfterChunkStarts = countMax == null || countMax.compareTo(chunkMin) > 0;
        return startsBeforeChunkEnds && endsAfterChunkStarts;
    }
}
