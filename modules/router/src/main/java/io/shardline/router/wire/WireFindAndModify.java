package io.shardline.router.wire;

import java.util.List;

import org.bson.Document;

import io.shardline.router.ShardRouter;
import io.shardline.router.api.FindAndModifyRequest;
import io.shardline.router.api.FindAndModifyResult;
import io.shardline.router.api.RouterException;

/**
 * {@code findAndModify} (what a driver's {@code findOneAndUpdate}, {@code findOneAndReplace} and
 * {@code findOneAndDelete} send): {@code query}, {@code sort}, {@code update} (operators or a replacement),
 * {@code remove}, {@code new}, {@code fields}, {@code upsert}, answered with MongoDB's {@code lastErrorObject} and
 * {@code value} from {@link ShardRouter#findAndModify}. What the router cannot honour exactly is refused naming it.
 */
final class WireFindAndModify {

    private final ShardRouter router;

    WireFindAndModify(ShardRouter router) {
        this.router = router;
    }

    Document run(WireSession session, WireMessage message) {
        String command = message.commandName();
        CommandFields fields = new CommandFields(command, message.command());
        String namespace = message.database() + "." + fields.string(command);
        refuseUnsupported(command, fields, message.command());
        FindAndModifyResult result = router.findAndModify(WireWriteConcern.scope(session, message.command()), namespace, request(command, fields));
        return reply(result, fields.bool("remove", false));
    }

    /** Refuses the options the router cannot honour: collation, let, arrayFilters and update pipelines. */
    static void refuseUnsupported(String command, CommandFields fields, Document body) {
        fields.refuse("collation", "collations are not supported by the router");
        fields.refuse("let", "let variables are not supported by the router");
        if (body.get("arrayFilters") instanceof List<?> filters && !filters.isEmpty()) {
            throw new WireCommandException(WireError.INVALID_OPTIONS, command + ".arrayFilters: not supported by the router");
        }
        if (body.get("update") instanceof List<?>) {
            throw new WireCommandException(WireError.INVALID_OPTIONS,
                command + ".update: update pipelines are not supported by the router; use update operators or a replacement document");
        }
    }

    /** The request a command names; a contradiction between its options is {@code FailedToParse}, as on MongoDB. */
    static FindAndModifyRequest request(String command, CommandFields fields) {
        Document query = fields.document("query");
        Document sort = fields.document("sort");
        Document update = fields.document("update");
        Document projection = fields.document("fields");
        boolean remove = fields.bool("remove", false);
        boolean returnNew = fields.bool("new", false);
        boolean upsert = fields.bool("upsert", false);
        try {
            return new FindAndModifyRequest(query, sort, update, remove, returnNew, projection, upsert);
        } catch (RouterException contradiction) {
            throw new WireCommandException(WireError.FAILED_TO_PARSE, command + "." + contradiction.getMessage());
        }
    }

    /** MongoDB's reply: {@code lastErrorObject} ({@code n}; for an update {@code updatedExisting} and {@code upserted}), {@code value}. */
    static Document reply(FindAndModifyResult result, boolean remove) {
        Document last = new Document("n", (int) result.n());
        if (!remove) {
            last.append("updatedExisting", result.updatedExisting());
            if (result.upsertedId() != null) {
                last.append("upserted", result.upsertedId());
            }
        }
        return new Document("lastErrorObject", last).append("value", result.document()).append("ok", 1.0);
    }
}
