package io.shardline.controlplane;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardStats;

/** An operator's view of the control plane (CLI, admin API): its tables read to their end on demand, and a publisher. */
public final class ControlPlaneClient implements AutoCloseable {

    private final String bootstrap;
    private final TopicCatalog catalog;
    private final String reporter;
    private TopicTable<ShardDescriptor> shards;
    private TopicTable<NamespaceConfig> configs;
    private TopicTable<ChunkRoute> routing;
    private TopicTable<MigrationState> migrations;
    private TopicTable<ShardStats> stats;
    private ControlPlanePublisher publisher;

    public ControlPlaneClient(String bootstrap, TopicCatalog catalog) {
        this(bootstrap, catalog, "cli");
    }

    /** @param reporter who reads (for example {@code admin}), named in the dead letters of records it cannot read */
    public ControlPlaneClient(String bootstrap, TopicCatalog catalog, String reporter) {
        this.bootstrap = bootstrap;
        this.catalog = catalog;
        this.reporter = reporter;
    }

    public TopicCatalog catalog() {
        return catalog;
    }

    public String bootstrap() {
        return bootstrap;
    }

    public synchronized Map<String, ShardDescriptor> shards() {
        if (shards == null) {
            shards = new TopicTable<>(bootstrap, catalog.shards(), catalog.controlDlq().name(), reporter).keepingNewest(ShardDescriptor::getVersion);
        }
        return new TreeMap<>(shards.refresh().values());
    }

    public synchronized Map<String, NamespaceConfig> namespaces() {
        if (configs == null) {
            configs = new TopicTable<>(bootstrap, catalog.config(), catalog.controlDlq().name(), reporter).keepingNewest(NamespaceConfig::getVersion);
        }
        return new TreeMap<>(configs.refresh().values());
    }

    /** The chunks of every namespace, or of one, in key order. */
    public synchronized List<ChunkRoute> routing(String namespace) {
        if (routing == null) {
            routing = new TopicTable<>(bootstrap, catalog.routing(), catalog.controlDlq().name(), reporter);
        }
        return routing.refresh().values().values().stream()
            .filter(route -> namespace == null || route.getNamespace().equals(namespace))
            .sorted(Comparator.comparing(ChunkRoute::getNamespace).thenComparing(route -> KeyHex.of(route.getMin())))
            .toList();
    }

    public synchronized Map<String, MigrationState> migrations() {
        if (migrations == null) {
            migrations = new TopicTable<>(bootstrap, catalog.migrations(), catalog.controlDlq().name(), reporter);
        }
        return migrations.refresh().values();
    }

    public synchronized Map<String, ShardStats> stats() {
        if (stats == null) {
            stats = new TopicTable<>(bootstrap, catalog.stats(), catalog.controlDlq().name(), reporter);
        }
        return new TreeMap<>(stats.refresh().values());
    }

    public synchronized ControlPlanePublisher publisher() {
        if (publisher == null) {
            publisher = new ControlPlanePublisher(bootstrap, catalog);
        }
        return publisher;
    }

    @Override
    public synchronized void close() {
        for (AutoCloseable part : new AutoCloseable[] {shards, configs, routing, migrations, stats, publisher}) {
            if (part != null) {
                try {
                    part.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing the control-plane client failed", e);
                }
            }
        }
    }
}
