package io.shardline.router.wire;

import org.bson.Document;

import io.shardline.router.api.Scope;
import io.shardline.schemas.avro.WriteDurability;

/**
 * A write command's {@code writeConcern} read as the durability its writes ask for, as a driver states it against
 * mongos: {@code w: "majority"} (or a number of members above 1) waits for the shard's standby (STANDBY); {@code w: 1}
 * (or 0) is acknowledged by the shard alone (PRIMARY). Without {@code w}, the namespace's own durability applies.
 * {@code j} and {@code wtimeout} change nothing here: the standby ack timeout is the router's.
 */
final class WireWriteConcern {

    private WireWriteConcern() {
    }

    /** The session's caller, with the durability the command's {@code writeConcern} asks for. */
    static Scope scope(WireSession session, Document command) {
        Object concern = command.get("writeConcern");
        if (concern == null) {
            return session.scope();
        }
        if (!(concern instanceof Document fields)) {
            throw new WireCommandException(WireError.TYPE_MISMATCH, "writeConcern: must be a document");
        }
        return session.scope().withDurability(durability(fields.get("w")));
    }

    /** The durability {@code w} asks for; {@code null} when it is absent. */
    static WriteDurability durability(Object w) {
        if (w == null) {
            return null;
        }
        if (w instanceof Number members) {
            if (members.doubleValue() < 0 || members.doubleValue() != Math.rint(members.doubleValue())) {
                throw new WireCommandException(WireError.FAILED_TO_PARSE, "writeConcern.w: must be a whole number >= 0 or \"majority\", was " + w);
            }
            return members.longValue() >= 2 ? WriteDurability.STANDBY : WriteDurability.PRIMARY;
        }
        if ("majority".equals(w)) {
            return WriteDurability.STANDBY;
        }
        throw new WireCommandException(WireError.BAD_VALUE, "writeConcern.w: '" + w + "' is not a number of members or \"majority\"; the router knows no tagged write concerns");
    }
}
