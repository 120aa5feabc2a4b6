package io.shardline.testing;

import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

import io.shardline.embedded.EmbeddedKafka;

/**
 * The broker a test JVM uses: a Testcontainers Kafka when a Docker engine answers, the in-process KRaft broker
 * otherwise (or when {@value #FORCE_IN_PROCESS} is set). One per JVM.
 */
public final class TestBroker implements AutoCloseable {

    /** System property that skips the Docker probe and uses the in-process broker. */
    public static final String FORCE_IN_PROCESS = "shardline.test.broker.in-process";
    static final String KAFKA_IMAGE = "apache/kafka:4.1.0";
    private static final Logger LOG = LoggerFactory.getLogger(TestBroker.class);

    private final String bootstrapServers;
    private final AutoCloseable owner;
    private final String kind;

    private TestBroker(String bootstrapServers, AutoCloseable owner, String kind) {
        this.bootstrapServers = bootstrapServers;
        this.owner = owner;
        this.kind = kind;
    }

    static TestBroker start(Path workDir) {
        if (!Boolean.getBoolean(FORCE_IN_PROCESS) && DockerClientFactory.instance().isDockerAvailable()) {
            KafkaContainer container = new KafkaContainer(KAFKA_IMAGE);
            container.start();
            LOG.info("tests use a Testcontainers broker at {}", container.getBootstrapServers());
            return new TestBroker(container.getBootstrapServers(), container::stop, "testcontainers");
        }
        EmbeddedKafka kafka = EmbeddedKafka.start(workDir.resolve("kafka"));
        LOG.info("no Docker engine: tests use the in-process broker at {}", kafka.bootstrapServers());
        return new TestBroker(kafka.bootstrapServers(), kafka, "in-process");
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** {@code testcontainers} or {@code in-process}. */
    public String kind() {
        return kind;
    }

    @Override
    public void close() throws Exception {
        owner.close();
    }
}
