package io.shardline.topology.internal;

/**
 * A CDC record after parsing: the change, or the error with the original record and where it came from.
 * Lives only between two processors of one sub-topology, so it needs no serde.
 */
public record ParsedCdc(CdcChange change, RuntimeException error, String originalKey, String originalValue,
                        String sourceTopic, int sourcePartition, long sourceOffset) {

    public boolean failed() {
        return error != null;
    }
}
