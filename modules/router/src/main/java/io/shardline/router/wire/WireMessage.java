package io.shardline.router.wire;

import org.bson.Document;

/**
 * One request read off a connection: an {@code OP_MSG} command (its document sequences folded into the command as
 * arrays, as the server sees them) or a legacy {@code OP_QUERY} on {@code $cmd}, which clients send only for their
 * first {@code hello}/{@code isMaster}.
 *
 * @param requestId  the client's id for the request, which the reply names
 * @param legacy     an {@code OP_QUERY}: the reply is an {@code OP_REPLY}
 * @param moreToCome the client expects no reply ({@code OP_MSG} flag bit 1, unacknowledged writes)
 * @param database   the database the command names ({@code $db}, or the {@code OP_QUERY} collection's database)
 * @param command    the command document
 */
public record WireMessage(int requestId, boolean legacy, boolean moreToCome, String database, Document command) {

    /** The command's name: its document's first key. */
    public String commandName() {
        return command.isEmpty() ? "" : command.keySet().iterator().next();
    }
}
