package io.shardline.cli.ops;

import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import picocli.CommandLine.Option;

/** Where the control plane is: Kafka, the schema registry and the topic prefix, by option or environment. */
public final class ClientOptions {

    @Option(names = "--bootstrap", defaultValue = "${env:SHARDLINE_BOOTSTRAP:-127.0.0.1:9092}",
        description = "Kafka bootstrap servers (env SHARDLINE_BOOTSTRAP; default: ${DEFAULT-VALUE}).")
    String bootstrap;

    @Option(names = "--registry", defaultValue = "${env:SHARDLINE_REGISTRY_URL:-http://127.0.0.1:8081}",
        description = "Schema registry URL, as `up` prints it or its base (env SHARDLINE_REGISTRY_URL; default: ${DEFAULT-VALUE}).")
    String registry;

    @Option(names = "--topic-prefix", defaultValue = "${env:SHARDLINE_TOPIC_PREFIX:-" + TopicCatalog.DEFAULT_PREFIX + "}",
        description = "Prefix of the control-plane topics (env SHARDLINE_TOPIC_PREFIX; default: ${DEFAULT-VALUE}).")
    String topicPrefix;

    public String bootstrap() {
        return bootstrap;
    }

    /** The catalog of the control-plane topics; the registry URL may be the compatible API's ({@code …/apis/ccompat/v7}). */
    public TopicCatalog catalog() {
        int api = registry.indexOf("/apis/");
        return new TopicCatalog(topicPrefix, new RegistrySerdes(api < 0 ? registry : registry.substring(0, api)));
    }
}
