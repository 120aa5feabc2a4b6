package io.shardline.router.wire;

import java.security.NoSuchAlgorithmException;
import java.util.Map;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;

import org.apache.kafka.common.security.scram.ScramCredentialCallback;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslServer;
import org.bson.Document;
import org.bson.types.Binary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code saslStart} and {@code saslContinue} with SCRAM-SHA-256, as MongoDB runs them: the conversation itself (RFC
 * 5802 / 7677, the same mechanism Kafka authenticates with) is Kafka's SCRAM SASL server, fed the user's stored
 * credential. Users live in the {@code admin} database. Every failure answers MongoDB's one message, "Authentication
 * failed.", so a client learns nothing of which part was wrong; the log says which.
 */
final class WireAuthentication {

    static final String MECHANISM = "SCRAM-SHA-256";
    static final int MECHANISM_UNAVAILABLE = 334;
    private static final Logger LOG = LoggerFactory.getLogger(WireAuthentication.class);

    /** A conversation in progress on one connection. */
    static final class Conversation {
        private final SaslServer server;
        private final boolean skipEmptyExchange;
        private boolean finalSent;

        Conversation(SaslServer server, boolean skipEmptyExchange) {
            this.server = server;
            this.skipEmptyExchange = skipEmptyExchange;
        }
    }

    private final WireUsers users;

    WireAuthentication(WireUsers users) {
        this.users = users;
    }

    Document saslStart(WireSession session, WireMessage message) {
        Object mechanism = message.command().get("mechanism");
        if (!MECHANISM.equals(mechanism)) {
            throw new WireCommandException(MECHANISM_UNAVAILABLE, "Received authentication for mechanism " + mechanism
                + " which is not enabled: this router offers " + MECHANISM);
        }
        if (!message.database().equals("admin")) {
            throw failed(session, "users are defined in the admin database, not in " + message.database());
        }
        Document options = message.command().get("options") instanceof Document given ? given : new Document();
        SaslServer server;
        try {
            server = new ScramSaslServer(ScramMechanism.SCRAM_SHA_256, Map.of(), this::credentials);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks SHA-256, which SCRAM-SHA-256 needs", e);
        }
        Conversation conversation = new Conversation(server, Boolean.TRUE.equals(options.get("skipEmptyExchange")));
        session.converse(conversation);
        return step(session, conversation, payload(message));
    }

    Document saslContinue(WireSession session, WireMessage message) {
        Conversation conversation = session.conversation();
        if (conversation == null) {
            throw failed(session, "saslContinue without a saslStart");
        }
        if (conversation.finalSent) {
            // The client's empty last step, when it did not ask to skip it.
            session.converse(null);
            return reply(true, new byte[0]);
        }
        return step(session, conversation, payload(message));
    }

    private Document step(WireSession session, Conversation conversation, byte[] payload) {
        byte[] answer;
        try {
            answer = conversation.server.evaluateResponse(payload);
        } catch (SaslException | RuntimeException e) {
            session.converse(null);
            throw failed(session, e.getMessage());
        }
        if (!conversation.server.isComplete()) {
            return reply(false, answer);
        }
        String name = conversation.server.getAuthorizationID();
        WireUsers.User user = users.user(name).orElseThrow(() -> failed(session, "user " + name + " is gone"));
        session.authenticated(user.name(), user.scope(), user);
        conversation.finalSent = true;
        if (conversation.skipEmptyExchange) {
            session.converse(null);
            return reply(true, answer);
        }
        return reply(false, answer);
    }

    private static Document reply(boolean done, byte[] payload) {
        return new Document("conversationId", 1).append("done", done).append("payload", new Binary(payload)).append("ok", 1.0);
    }

    private static byte[] payload(WireMessage message) {
        Object payload = message.command().get("payload");
        if (payload instanceof Binary binary) {
            return binary.getData();
        }
        if (payload instanceof String text) {
            return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        throw new WireCommandException(WireError.TYPE_MISMATCH, message.commandName() + ".payload must be binary data");
    }

    private WireCommandException failed(WireSession session, String reason) {
        LOG.info("connection {} from {}: authentication failed: {}", session.connectionId(), session.peer(), reason);
        return new WireCommandException(WireError.AUTHENTICATION_FAILED, "Authentication failed.");
    }

    private void credentials(Callback[] callbacks) throws UnsupportedCallbackException {
        String name = null;
        for (Callback callback : callbacks) {
            if (callback instanceof NameCallback nameCallback) {
                name = nameCallback.getDefaultName();
            } else if (callback instanceof ScramCredentialCallback credential) {
                credential.scramCredential(name == null ? null : users.credential(name));
            } else {
                throw new UnsupportedCallbackException(callback);
            }
        }
    }
}
