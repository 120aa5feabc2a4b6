package io.shardline.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a test class the JVM's shared embedded cluster: a real broker ({@link TestBroker}), the schema registry,
 * Kafka Connect with one Debezium connector per shard, and two embedded shards. Test methods and lifecycle
 * methods may declare parameters of type {@link io.shardline.embedded.EmbeddedCluster} and {@link TestNames}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(ShardlineClusterExtension.class)
public @interface ShardlineCluster {
}
