package io.shardline.worker.command;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.controlplane.CommandRules;
import io.shardline.schemas.avro.AbortMigration;
import io.shardline.schemas.avro.AddShard;
import io.shardline.schemas.avro.DrainShard;
import io.shardline.schemas.avro.MergeShards;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.Rebalance;
import io.shardline.schemas.avro.ReplaceShard;
import io.shardline.schemas.avro.AddStandby;
import io.shardline.schemas.ConnectRestClient;
import io.shardline.schemas.avro.RollbackMigration;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.SplitChunk;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.schemas.avro.ZoneKeyRange;
import io.shardline.schemas.avro.ZoneShard;
import io.shardline.worker.config.WorkerConfig;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.core.key.KeyHex;

/**
 * Carries out one command record: read, skipped when carried out before (commands are idempotent by command id),
 * dispatched to the {@link Planner}. A record that cannot be read or a command that breaks a rule goes to the
 * commands DLQ with the field at fault, and a {@code COMMAND_REJECTED} event; any other failure is thrown, for the
 * command loop to retry the record.
 */
final class CommandHandler {

    private static final Logger LOG = LoggerFactory.getLogger(CommandHandler.class);

    private final WorkerConfig config;
    private final ControlPlane plane;
    private final Planner planner;
    private final ZoneKeeper zones;

    CommandHandler(WorkerConfig config, ControlPlane plane, Planner planner, ZoneKeeper zones) {
        this.config = config;
        this.plane = plane;
        this.planner = planner;
        this.zones = zones;
    }

    void handle(ConsumerRecord<byte[], byte[]> record) {
        ShardCommand command;
        try {
            command = config.catalog().commands().valueSerde().deserializer().deserialize(record.topic(), record.value());
            if (command == null) {
                throw new IllegalArgumentException("value: a command record needs a value");
            }
        } catch (RuntimeException unreadable) {
            reject(record, null, "value", unreadable);
            return;
        }
        try {
            if (alreadyHandled(command)) {
                LOG.info("command {} was carried out before; skipped", command.getCommandId());
                return;
            }
            carryOut(command);
        } catch (InvalidCommand invalid) {
            reject(record, command, invalid.field, invalid);
        }
    }

    private void carryOut(ShardCommand command) {
        Object body = command.getCommand();
        if (body instanceof MoveChunk move) {
            planner.move(command, move.getNamespace(), KeyHex.of(move.getChunkMin()), move.getTargetShardId(), null);
            planner.accepted(command, move.getTargetShardId(), move.getNamespace(), "moving chunk " + name(move.getChunkMin()) + " of "
                + move.getNamespace() + " to " + move.getTargetShardId());
        } else if (body instanceof SplitChunk split) {
            planner.split(command, split.getNamespace(), KeyHex.of(split.getChunkMin()), KeyHex.of(split.getSplitKey()), split.getByLoad(), null);
            planner.accepted(command, null, split.getNamespace(), "chunk " + name(split.getChunkMin()) + " of " + split.getNamespace()
                + " split at " + KeyHex.of(split.getSplitKey()));
        } else if (body instanceof SplitShard split) {
            planner.splitAndMove(command, split.getShardId(), split.getNamespace(), KeyHex.of(split.getChunkMin()),
                split.getSplitKey() == null ? null : KeyHex.of(split.getSplitKey()), split.getTargetShardId(), split.getByLoad());
            planner.accepted(command, split.getShardId(), split.getNamespace(), "splitting chunk " + name(split.getChunkMin()) + " of "
                + split.getNamespace() + " on " + split.getShardId() + " and moving its upper half");
        } else if (body instanceof MergeShards merge) {
            planner.drain(command, merge.getSourceShardId(), "command.sourceShardId", merge.getTargetShardId());
        } else if (body instanceof DrainShard drain) {
            planner.drain(command, drain.getShardId(), "command.shardId", null);
        } else if (body instanceof AbortMigration abort) {
            request(command, abort.getMigrationId(), true);
        } else if (body instanceof RollbackMigration rollback) {
            request(command, rollback.getMigrationId(), false);
        } else if (body instanceof Rebalance rebalance) {
            List<List<String>> moves = planner.rebalance(command, rebalance.getNamespace());
            planner.accepted(command, null, rebalance.getNamespace(), "rebalance: " + moves.size() + " chunk moves planned, in "
                + Admission.rounds(moves) + " rounds of disjoint shard pairs");
        } else if (body instanceof ReplaceShard replace) {
            new Replacement(plane).replace(command, replace.getShardId(), replace.getReplacementShardId());
        } else if (body instanceof AddStandby standby) {
            new StandbyAddition(plane, config.connectUrl() == null ? null : new ConnectRestClient(config.connectUrl()))
                .add(command, standby.getShardId(), standby.getConnectionString());
        } else if (body instanceof AddShard add) {
            planner.addShard(command, add.getShard());
        } else if (body instanceof ZoneShard zoneShard) {
            zones.zoneShard(command, zoneShard);
            zones.enforce();
        } else if (body instanceof ZoneKeyRange zoneRange) {
            zones.zoneRange(command, zoneRange);
            zones.enforce();
        } else {
            throw new InvalidCommand("command", "unknown command " + body.getClass().getSimpleName());
        }
    }

    private void request(ShardCommand command, String migrationId, boolean abort) {
        MigrationState migration = planner.request(command.getCommandId(), migrationId, abort);
        planner.accepted(command, migration.getSourceShardId(), migration.getNamespace(), (abort ? "abort" : "rollback") + " of " + migrationId);
    }

    private static String name(ByteBuffer min) {
        return CommandRules.name(KeyHex.of(min));
    }

    private void reject(ConsumerRecord<byte[], byte[]> record, ShardCommand command, String field, Exception why) {
        LOG.warn("command rejected: {}", why.getMessage());
        plane.deadLetter(record, why, field);
        plane.event(ShardEventType.COMMAND_REJECTED, null, null, null, command == null ? null : command.getCommandId(),
            command == null ? null : command.getIssuer(), why.getMessage(), Map.of());
    }

    private boolean alreadyHandled(ShardCommand command) {
        return plane.migrations().values().values().stream().anyMatch(m -> m.getCommandId().equals(command.getCommandId()));
    }
}
