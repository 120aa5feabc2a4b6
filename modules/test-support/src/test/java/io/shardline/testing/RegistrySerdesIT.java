package io.shardline.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Instant;

import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;

/** Control-plane records in the Confluent wire format through the real registry. */
@ShardlineCluster
class RegistrySerdesIT {

    @Test
    void shouldWriteTheConfluentWireFormatWithASchemaIdTheRegistryResolves(EmbeddedCluster cluster, TestNames names) throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        Serde<ShardDescriptor> serde = catalog.shards().valueSerde();
        ShardDescriptor shard = ShardDescriptor.newBuilder()
            .setShardId("s9").setConnectionString("mongodb://127.0.0.1:27017/?replicaSet=rs-s9")
            .setCapacityBytes(1L << 30).setCapacityOpsPerSec(5_000).setState(ShardState.ACTIVE)
            .setVersion(1).setUpdatedAt(Instant.ofEpochMilli(1_700_000_000_000L))
            .build();

        byte[] bytes = serde.serializer().serialize(catalog.shards().name(), shard);
        ByteBuffer wire = ByteBuffer.wrap(bytes);
        byte magic = wire.get();
        int schemaId = wire.getInt();

        assertThat(magic).isZero();
        HttpResponse<String> schema = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create(cluster.schemaRegistry().confluentCompatibleUrl() + "/schemas/ids/" + schemaId)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(schema.statusCode()).isEqualTo(200);
        assertThat(schema.body()).contains("ShardDescriptor");
        assertThat(serde.deserializer().deserialize(catalog.shards().name(), bytes)).isEqualTo(shard);
    }
}
