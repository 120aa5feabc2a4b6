package io.shardline.shard.internal;

/** Kinds of oplog entries and the {@code operationType} each becomes in a change event. */
enum OpType {
    INSERT("insert"),
    UPDATE("update"),
    REPLACE("replace"),
    DELETE("delete"),
    DROP("drop");

    private final String operationType;

    OpType(String operationType) {
        this.operationType = operationType;
    }

    String operationType() {
        return operationType;
    }
}
