package io.shardline.controlplane.alerts;

/** An event a rule cannot turn into an alert: a field the alert is made from is missing. */
public final class UnusableEvent extends RuntimeException {

    private final String field;

    public UnusableEvent(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The event field at fault. */
    public String field() {
        return field;
    }
}
