package io.shardline.topology.internal;

/**
 * One change read from a Debezium MongoDB CDC topic.
 *
 * @param documentKey   the {@code id} of the Debezium key: the document's {@code _id} as extended JSON
 * @param postImageSize BSON size of the document after the change; -1 for deletes
 * @param postImage     the document after the change, {@code null} for deletes
 */
public record CdcChange(String shardId, String namespace, String documentKey, Op op, int postImageSize,
                        org.bson.Document postImage) {

    /** Debezium's op codes. */
    public enum Op {
        CREATE, READ, UPDATE, DELETE;

        static Op fromCode(String code) {
            return switch (code) {
                case "c" -> CREATE;
                case "r" -> READ;
                case "u" -> UPDATE;
                case "d" -> DELETE;
                default -> throw new MalformedCdcRecordException("op", "unknown operation '" + code + "', expected c, r, u or d");
            };
        }
    }

    /** Key of the per-document state: shard, namespace and document key. */
    public String storeKey() {
        return shardId + "|" + namespace + "|" + documentKey;
    }
}
