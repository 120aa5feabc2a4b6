package io.shardline.cli.ops;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;

import io.shardline.cli.config.ClusterFile;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shardline init --config shardline.yaml}: checks the cluster file (every problem with its line and field; nothing is
 * published if there is one), creates the shard-key index {@code {_sk: 1}} of every namespace on every shard (nothing is
 * published if a shard does not take it), creates the control-plane topics, registers the shards and namespace configs on their
 * compacted topics and gives each namespace without routing a first routing table spread over the shards. Running it
 * again publishes only what changed and leaves existing routing as it is.
 */
@Command(name = "init", mixinStandardHelpOptions = true,
    description = "Register shards and namespaces from a YAML file and bootstrap the routing of new namespaces.")
public final class InitCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = "--replication-factor", defaultValue = "1",
        description = "Replication factor of the control-plane topics it creates (default: ${DEFAULT-VALUE}; 3 in production).")
    short replicationFactor;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ClusterFile file;
        try {
            file = client.file();
        } catch (ClusterFile.Invalid invalid) {
            invalid.problems().forEach(err::println);
            err.println("nothing published: " + invalid.problems().size() + " problem" + (invalid.problems().size() == 1 ? "" : "s")
                + " in the cluster file");
            err.flush();
            return 2;
        }
        if (file == null) {
            throw new IllegalArgumentException("--config: init needs the cluster file (or SHARDLINE_CONFIG)");
        }
        if (!shardKeyIndexes(file, out, err)) {
            return 1;
        }
        ControlPlaneTopics.ensure(client.bootstrap(), client.catalog(), replicationFactor);
        try (ControlPlaneClient plane = new ControlPlaneClient(client.bootstrap(), client.catalog())) {
            for (ShardDescriptor declared : file.shards()) {
                ShardDescriptor existing = plane.shards().get(declared.getShardId());
                // A shard the file gives no zones keeps those `shardline zone` gave it.
                ShardDescriptor shard = existing != null && declared.getZones().isEmpty()
                    ? ShardDescriptor.newBuilder(declared).setZones(existing.getZones()).build() : declared;
                if (existing != null && existing.getConnectionString().equals(shard.getConnectionString())
                    && existing.getCapacityBytes() == shard.getCapacityBytes() && existing.getCapacityOpsPerSec() == shard.getCapacityOpsPerSec()
                    && existing.getZones().equals(shard.getZones())) {
                    out.println("shard " + shard.getShardId() + ": unchanged");
                    continue;
                }
                if (existing != null) {
                    shard = ShardDescriptor.newBuilder(shard).setState(existing.getState()).setVersion(existing.getVersion() + 1).build();
                }
                plane.publisher().publishShard(shard);
                out.println("shard " + shard.getShardId() + ": " + (existing == null ? "registered" : "updated") + " at " + shard.getConnectionString());
            }
            List<String> shardIds = file.shards().stream().map(ShardDescriptor::getShardId).toList();
            for (ClusterFile.Namespace namespace : file.namespaces()) {
                NamespaceConfig existing = plane.namespaces().get(namespace.config().getNamespace());
                // A namespace the file pins no range of keeps those `shardline zone pin` pinned.
                NamespaceConfig wanted = existing != null && namespace.config().getZones().isEmpty()
                    ? NamespaceConfig.newBuilder(namespace.config()).setZones(existing.getZones()).build() : namespace.config();
                if (existing == null || !sameDeclaration(existing, wanted)) {
                    NamespaceConfig published = existing == null ? wanted
                        : NamespaceConfig.newBuilder(wanted).setEpoch(existing.getEpoch()).setVersion(existing.getVersion() + 1).build();
                    plane.publisher().publishConfig(published);
                    out.println("namespace " + wanted.getNamespace() + ": " + (existing == null ? "registered" : "updated") + " ("
                        + wanted.getStrategy().name().toLowerCase(java.util.Locale.ROOT) + " on " + wanted.getShardKeyFields() + ")");
                } else {
                    out.println("namespace " + wanted.getNamespace() + ": unchanged");
                }
                int chunks = plane.routing(wanted.getNamespace()).size();
                if (chunks > 0) {
                    out.println("routing of " + wanted.getNamespace() + ": " + chunks + " chunks exist, left as they are");
                    continue;
                }
                List<ShardKey> cuts = wanted.getStrategy() == ShardKeyStrategyType.HASHED
                    ? InitialChunks.hashedBoundaries(namespace.initialChunks())
                    : InitialChunks.valueBoundaries(InitialChunks.letterBoundaries(namespace.initialChunks()));
                plane.publisher().publishRouting(wanted.getNamespace(), InitialChunks.layout(wanted.getNamespace(), wanted.getEpoch(), cuts, shardIds));
                out.println("routing of " + wanted.getNamespace() + ": " + (cuts.size() + 1) + " chunks over " + shardIds);
            }
        }
        out.flush();
        return 0;
    }

    /**
     * Creates the shard-key index of every namespace on every shard before anything is published, so that no namespace is
     * routed to a shard without it; a shard that does not take it is named, and nothing is published.
     */
    private static boolean shardKeyIndexes(ClusterFile file, PrintWriter out, PrintWriter err) {
        Map<String, String> shards = new LinkedHashMap<>();
        file.shards().forEach(shard -> shards.put(shard.getShardId(), shard.getConnectionString()));
        List<String> namespaces = file.namespaces().stream().map(namespace -> namespace.config().getNamespace()).toList();
        List<ShardKeyIndexes.Failure> failures;
        try {
            failures = ShardKeyIndexes.ensure(shards, namespaces);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("nothing published: interrupted while creating the shard-key indexes");
            err.flush();
            return false;
        }
        if (!failures.isEmpty()) {
            failures.forEach(err::println);
            long missing = failures.stream().map(ShardKeyIndexes.Failure::shardId).distinct().count();
            err.println("nothing published: the shard-key index is missing on " + missing + " shard" + (missing == 1 ? "" : "s"));
            err.flush();
            return false;
        }
        out.println("shard-key index {_sk: 1}: on " + String.join(", ", shards.keySet()) + " for " + String.join(", ", namespaces));
        return true;
    }

    private static boolean sameDeclaration(NamespaceConfig a, NamespaceConfig b) {
        return a.getStrategy() == b.getStrategy() && a.getShardKeyFields().equals(b.getShardKeyFields())
            && Objects.equals(a.getTenantSuffixBuckets(), b.getTenantSuffixBuckets()) && Objects.equals(a.getTimeBucketMillis(), b.getTimeBucketMillis())
            && a.getThresholds().equals(b.getThresholds()) && a.getZones().equals(b.getZones());
    }
}
