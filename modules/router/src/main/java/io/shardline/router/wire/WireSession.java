package io.shardline.router.wire;

import io.shardline.router.api.Scope;

/**
 * One client connection's state: its id (as {@code hello} reports it), its peer, and whose documents it may reach.
 */
final class WireSession {

    private final long connectionId;
    private final String peer;
    private volatile Scope scope;
    private volatile String user;

    WireSession(long connectionId, String peer, Scope scope) {
        this.connectionId = connectionId;
        this.peer = peer;
        this.scope = scope;
    }

    long connectionId() {
        return connectionId;
    }

    String peer() {
        return peer;
    }

    Scope scope() {
        return scope;
    }

    /** The authenticated user's name, {@code null} before authentication (or when the server has no users). */
    String user() {
        return user;
    }

    void authenticated(String user, Scope scope) {
        this.user = user;
        this.scope = scope;
    }
}
