package io.shardline.shard.internal;

/**
 * What a change stream watches: the whole deployment, one database, or one collection. Internal databases
 * ({@code admin}, {@code config}, {@code local}) are never part of a change stream, as on MongoDB.
 */
record ChangeStreamScope(String database, String collection) {

    static ChangeStreamScope cluster() {
        return new ChangeStreamScope(null, null);
    }

    boolean matches(OplogEntry entry) {
        if (database == null) {
            return true;
        }
        if (!database.equals(entry.database())) {
            return false;
        }
        return collection == null || collection.equals(entry.collection());
    }

    /** A collection stream ends with {@code invalidate} when its collection is dropped. */
    boolean invalidatedBy(OplogEntry entry) {
        return collection != null && entry.op() == OpType.DROP && matches(entry);
    }

    /** The {@code ns} a cursor reply names. */
    String cursorNamespace() {
        if (database == null) {
            return "admin.$cmd.aggregate";
        }
        return collection == null ? database + ".$cmd.aggregate" : database + "." + collection;
    }
}
