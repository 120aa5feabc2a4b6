package io.shardline.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;

/**
 * Starts one {@link EmbeddedCluster} per test JVM on first use and stops it when the JVM's tests are done.
 * See {@link ShardlineCluster}.
 */
public final class ShardlineClusterExtension implements ParameterResolver {

    /** Number of shards of the shared cluster. */
    public static final int SHARDS = 2;
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(ShardlineClusterExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == EmbeddedCluster.class || type == TestNames.class || type == TestBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        if (type == TestNames.class) {
            return new TestNames(context.getTestMethod().map(m -> m.getName()).orElse(context.getDisplayName()));
        }
        SharedCluster shared = context.getRoot().getStore(NAMESPACE)
            .getOrComputeIfAbsent(SharedCluster.class, key -> SharedCluster.start(), SharedCluster.class);
        if (type == TestBroker.class) {
            return shared.broker;
        }
        if (type == EmbeddedCluster.class) {
            return shared.cluster;
        }
        throw new ParameterResolutionException("cannot resolve " + type);
    }

    /** The JVM's broker and cluster, closed by JUnit when the root context closes. */
    static final class SharedCluster implements ExtensionContext.Store.CloseableResource {
        final TestBroker broker;
        final EmbeddedCluster cluster;

        private SharedCluster(TestBroker broker, EmbeddedCluster cluster) {
            this.broker = broker;
            this.cluster = cluster;
        }

        static SharedCluster start() {
            Path workDir;
            try {
                workDir = Files.createTempDirectory("shardline-it-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            TestBroker broker = TestBroker.start(workDir);
            try {
                EmbeddedClusterConfig config = EmbeddedClusterConfig.defaults(workDir)
                    .withShards(SHARDS).withKafkaBootstrap(broker.bootstrapServers());
                return new SharedCluster(broker, EmbeddedCluster.start(config));
            } catch (RuntimeException e) {
                closeQuietly(broker, e);
                throw e;
            }
        }

        @Override
        public void close() throws Exception {
            try {
                cluster.close();
            } finally {
                broker.close();
            }
        }

        private static void closeQuietly(AutoCloseable resource, RuntimeException cause) {
            try {
                resource.close();
            } catch (Exception e) {
                cause.addSuppressed(e);
            }
        }
    }
}
