package io.shardline.core.routing;

import java.util.List;

/** The chunks of a namespace do not cover the key space exactly once. */
public class RoutingInvariantException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final transient List<String> violations;

    public RoutingInvariantException(String namespace, List<String> violations) {
        super("routing table of " + namespace + " is broken: " + String.join("; ", violations));
        this.violations = List.copyOf(violations);
    }

    public List<String> violations() {
        return violations;
    }
}
