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
    private volatile WireUsers.User account;
    private volatile WireAuthentication.Conversation conversation;

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

    /** The authenticated user, {@code null} before authentication (or when the server has no users). */
    WireUsers.User account() {
        return account;
    }

    void authenticated(String user, Scope scope, WireUsers.User account) {
        this.user = user;
        this.scope = scope;
        this.account = account;
    }

    /** The authentication conversation in progress, or {@code null}. */
    WireAuthentication.Conversation conversation() {
        return conversation;
    }

    void converse(WireAuthentication.Conversation conversation) {
        this.conversation = conversation;
    }
}
