package io.shardline.topology.balancer;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.apache.avro.specific.SpecificRecord;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.avro.MergeShards;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.topology.balancer.policy.ChunkView;
import io.shardline.topology.balancer.policy.Decision;
import io.shardline.topology.balancer.policy.ShardView;

/** The records a decision is published as: a {@link ShardCommand} and a {@link ShardEvent} with its reason and figures. */
final class DecisionRecords {

    private final String issuer;

    DecisionRecords(String issuer) {
        this.issuer = issuer;
    }

    ShardCommand command(Decision.Command decision, String commandId, long now) {
        return ShardCommand.newBuilder().setCommandId(commandId).setIssuer(issuer).setTimestamp(Instant.ofEpochMilli(now))
            .setReason(reason(decision)).setCommand(payload(decision)).build();
    }

    /** The event of a decision; {@code commandId} is {@code null} for a decision that is no command. */
    ShardEvent event(Decision decision, String commandId, long now) {
        return ShardEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType(type(decision))
            .setTimestamp(Instant.ofEpochMilli(now)).setSource("controller").setShardId(decision.source().id())
            .setNamespace(namespace(decision)).setCommandId(commandId).setIssuer(issuer).setReason(reason(decision))
            .setFigures(figures(decision)).build();
    }

    private static SpecificRecord payload(Decision.Command decision) {
        if (decision instanceof Decision.Split split) {
            return SplitShard.newBuilder().setShardId(split.source().id()).setNamespace(split.chunk().namespace())
                .setChunkMin(split.chunk().route().getMin()).setSplitKey(KeyHex.bytes(split.point().splitKeyHex()))
                .setTargetShardId(split.target().id()).setByLoad(split.byLoad()).build();
        }
        if (decision instanceof Decision.Move move) {
            return MoveChunk.newBuilder().setNamespace(move.chunk().namespace()).setChunkMin(move.chunk().route().getMin())
                .setTargetShardId(move.target().id()).build();
        }
        Decision.Merge merge = (Decision.Merge) decision;
        return MergeShards.newBuilder().setSourceShardId(merge.source().id()).setTargetShardId(merge.target().id()).build();
    }

    static ShardEventType type(Decision decision) {
        if (decision instanceof Decision.Split) {
            return ShardEventType.SPLIT_DECIDED;
        }
        if (decision instanceof Decision.Move) {
            return ShardEventType.MOVE_DECIDED;
        }
        if (decision instanceof Decision.Merge) {
            return ShardEventType.MERGE_DECIDED;
        }
        return ShardEventType.CHUNK_UNSPLITTABLE;
    }

    private static String namespace(Decision decision) {
        if (decision instanceof Decision.Split split) {
            return split.chunk().namespace();
        }
        if (decision instanceof Decision.Move move) {
            return move.chunk().namespace();
        }
        if (decision instanceof Decision.Unsplittable unsplittable) {
            return unsplittable.chunk().namespace();
        }
        return null;
    }

    static String reason(Decision decision) {
        ShardView shard = decision.source();
        if (decision instanceof Decision.Split split) {
            boolean byLoad = split.byLoad();
            return (byLoad ? "query load " + percent(shard.loadRatio()) + " over " + percent(shard.thresholds().getSplitLoadRatio())
                : "storage " + percent(shard.storageRatio()) + " over " + percent(shard.thresholds().getSplitStorageRatio()))
                + " of capacity for " + shard.splitStreak() + " windows: split the " + (byLoad ? "busiest" : "biggest")
                + " chunk at its " + (byLoad ? "write-load" : "document") + " median and move the upper half to " + split.target().id();
        }
        if (decision instanceof Decision.Move move) {
            return shard.id() + " is over its split thresholds and its top chunk cannot be split: move the next chunk to " + move.target().id();
        }
        if (decision instanceof Decision.Merge merge) {
            return "storage " + percent(shard.storageRatio()) + " and load " + percent(shard.loadRatio()) + " under "
                + percent(shard.thresholds().getMergeRatio()) + " for " + shard.mergeStreak() + " windows: merge into "
                + merge.target().id() + ", which stays at " + percent(merge.storageRatioAfter()) + " storage and "
                + percent(merge.loadRatioAfter()) + " load";
        }
        ChunkView chunk = ((Decision.Unsplittable) decision).chunk();
        return "chunk [" + chunk.minHex() + ", " + (chunk.maxHex() == null ? "+inf" : chunk.maxHex()) + ") of " + shard.id()
            + " holds a single shard key and cannot be split";
    }

    /** The figures behind a decision: the shard's, its chunk's if it is about one, and what the decision adds. */
    static Map<String, Double> figures(Decision decision) {
        if (decision instanceof Decision.Split split) {
            Map<String, Double> figures = figures(split.source(), split.chunk());
            figures.put("targetStorageRatio", split.target().storageRatio());
            figures.put("targetLoadRatio", split.target().loadRatio());
            figures.put("sampledDocuments", (double) split.point().samples());
            figures.put("fractionBelowSplitKey", split.point().fractionBelow());
            return figures;
        }
        if (decision instanceof Decision.Move move) {
            return figures(move.source(), move.chunk());
        }
        if (decision instanceof Decision.Merge merge) {
            Map<String, Double> figures = figures(merge.source(), null);
            figures.put("targetStorageRatioAfter", merge.storageRatioAfter());
            figures.put("targetLoadRatioAfter", merge.loadRatioAfter());
            return figures;
        }
        Decision.Unsplittable unsplittable = (Decision.Unsplittable) decision;
        Map<String, Double> figures = figures(unsplittable.source(), unsplittable.chunk());
        figures.put("sampledDocuments", (double) unsplittable.sampledDocuments());
        return figures;
    }

    private static Map<String, Double> figures(ShardView shard, ChunkView chunk) {
        Map<String, Double> figures = new HashMap<>();
        figures.put("storageRatio", shard.storageRatio());
        figures.put("loadRatio", shard.loadRatio());
        figures.put("dataBytes", (double) shard.bytes());
        figures.put("documents", (double) shard.documents());
        figures.put("opsPerSec", shard.opsPerSec());
        figures.put("splitStorageRatio", shard.thresholds().getSplitStorageRatio());
        figures.put("splitLoadRatio", shard.thresholds().getSplitLoadRatio());
        figures.put("mergeRatio", shard.thresholds().getMergeRatio());
        figures.put("sustainedWindows", (double) shard.thresholds().getSustainedWindows());
        if (chunk != null) {
            figures.put("chunkDocuments", (double) chunk.documents());
            figures.put("chunkBytes", (double) chunk.bytes());
            figures.put("chunkOpsPerSec", chunk.opsPerSec());
        }
        return figures;
    }

    static String percent(double ratio) {
        return Math.round(ratio * 1000) / 10.0 + "%";
    }
}
