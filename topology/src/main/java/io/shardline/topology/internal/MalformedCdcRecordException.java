package io.shardline.topology.internal;

/** A CDC record that is not a Debezium MongoDB change this topology can read; names the field at fault. */
public class MalformedCdcRecordException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String field;

    public MalformedCdcRecordException(String field, String message) {
        super("CDC record field '" + field + "': " + message);
        this.field = field;
    }

    public MalformedCdcRecordException(String field, String message, Throwable cause) {
        super("CDC record field '" + field + "': " + message, cause);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
