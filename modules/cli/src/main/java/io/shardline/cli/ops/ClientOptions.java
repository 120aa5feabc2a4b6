package io.shardline.cli.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import io.shardline.cli.config.ClusterFile;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import picocli.CommandLine.Option;

/**
 * Where the control plane is: Kafka, the schema registry and the topic prefix. Each comes from its option, else the
 * environment ({@code SHARDLINE_BOOTSTRAP}, {@code SHARDLINE_REGISTRY_URL}, {@code SHARDLINE_TOPIC_PREFIX}), else the
 * {@code kafka} section of the cluster file given with {@code --config} (or {@code SHARDLINE_CONFIG}), else the default.
 */
public final class ClientOptions {

    static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9092";
    static final String DEFAULT_REGISTRY = "http://127.0.0.1:8081";

    @Option(names = "--bootstrap", description = "Kafka bootstrap servers (env SHARDLINE_BOOTSTRAP; default: " + DEFAULT_BOOTSTRAP + ").")
    String bootstrap;

    @Option(names = "--registry", description = "Schema registry URL, as `up` prints it or its base (env SHARDLINE_REGISTRY_URL; default: "
        + DEFAULT_REGISTRY + ").")
    String registry;

    @Option(names = "--topic-prefix", description = "Prefix of the control-plane topics (env SHARDLINE_TOPIC_PREFIX; default: "
        + TopicCatalog.DEFAULT_PREFIX + ").")
    String topicPrefix;

    @Option(names = "--config", description = "The cluster file (env SHARDLINE_CONFIG): its kafka section says where the control plane is; "
        + "`init` also registers its shards and namespaces.")
    Path config;

    private Map<String, String> environment = System.getenv();
    private ClusterFile file;

    /** For tests: the environment to read instead of the process's. */
    ClientOptions withEnvironment(Map<String, String> environment) {
        this.environment = environment;
        return this;
    }

    public String bootstrap() {
        return pick(bootstrap, "SHARDLINE_BOOTSTRAP", ClusterFile.Kafka::bootstrap, DEFAULT_BOOTSTRAP);
    }

    public String registry() {
        return pick(registry, "SHARDLINE_REGISTRY_URL", ClusterFile.Kafka::registry, DEFAULT_REGISTRY);
    }

    public String topicPrefix() {
        return pick(topicPrefix, "SHARDLINE_TOPIC_PREFIX", ClusterFile.Kafka::topicPrefix, TopicCatalog.DEFAULT_PREFIX);
    }

    /** The catalog of the control-plane topics; the registry URL may be the compatible API's ({@code …/apis/ccompat/v7}). */
    public TopicCatalog catalog() {
        String url = registry();
        int api = url.indexOf("/apis/");
        return new TopicCatalog(topicPrefix(), new RegistrySerdes(api < 0 ? url : url.substring(0, api)));
    }

    /** Where the cluster file is ({@code --config}, else {@code SHARDLINE_CONFIG}); {@code null} when none is given. */
    public Path filePath() {
        return config != null ? config : environment.get("SHARDLINE_CONFIG") == null ? null : Path.of(environment.get("SHARDLINE_CONFIG"));
    }

    /** The cluster file, read once; {@code null} when none is given. */
    public ClusterFile file() {
        if (file == null) {
            Path path = filePath();
            if (path == null) {
                return null;
            }
            try {
                file = ClusterFile.parse(path.getFileName().toString(), Files.readString(path, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new IllegalArgumentException("--config: cannot read " + path + ": " + e.getMessage(), e);
            }
        }
        return file;
    }

    private String pick(String option, String variable, java.util.function.Function<ClusterFile.Kafka, String> fromFile, String fallback) {
        if (option != null) {
            return option;
        }
        if (environment.get(variable) != null && !environment.get(variable).isBlank()) {
            return environment.get(variable);
        }
        ClusterFile cluster = file();
        if (cluster != null && fromFile.apply(cluster.kafka()) != null) {
            return fromFile.apply(cluster.kafka());
        }
        return fallback;
    }
}
