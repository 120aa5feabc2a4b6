package io.shardline.cli;

import java.nio.file.Path;

import io.shardline.schemas.TopicCatalog;
import picocli.CommandLine.Option;

/** The options of the embedded stack, shared by {@code up} and {@code demo}; each command picks its own capacities. */
final class StackOptions {

    @Option(names = "--shards", defaultValue = "3", description = "Number of embedded shards (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--topic-prefix", defaultValue = TopicCatalog.DEFAULT_PREFIX,
        description = "Prefix of the control-plane topics (default: ${DEFAULT-VALUE}).")
    String topicPrefix;

    @Option(names = "--work-dir", description = "Directory for broker and registry files (default: a new temporary directory, removed on exit).")
    Path workDir;

    @Option(names = "--router-port", defaultValue = "0", description = "Port of the query router's HTTP API (default: a free one).")
    int routerPort;

    @Option(names = "--mongo-port", defaultValue = "0",
        description = "Port of the query router's MongoDB wire protocol, on the loopback interface (default: a free one).")
    int mongoPort;

    boolean noCdc;
    long shardCapacityBytes;
    long shardCapacityOps;

    void validate() {
        if (shards < 1) {
            throw new IllegalArgumentException("--shards must be at least 1, was " + shards);
        }
        if (shardCapacityBytes < 1 || shardCapacityOps < 1) {
            throw new IllegalArgumentException("--shard-capacity-bytes and --shard-capacity-ops must be positive");
        }
    }
}
