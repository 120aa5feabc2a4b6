package io.shardline.schemas;

import java.util.HashMap;
import java.util.Map;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

import io.apicurio.registry.resolver.config.SchemaResolverConfig;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.apicurio.registry.serde.avro.AvroSerdeConfig;

/**
 * Avro serdes that write the Confluent wire format (magic byte 0, 4-byte schema id, Avro binary) through a
 * schema registry, using Apicurio's serdes over the registry's REST API. Schemas are registered on first use
 * under the subject {@code <topic>-value}, as Confluent's default naming does.
 */
public final class RegistrySerdes {

    private final String registryUrl;

    /**
     * @param registryUrl base URL of the registry, e.g. {@code http://127.0.0.1:8081}
     */
    public RegistrySerdes(String registryUrl) {
        if (registryUrl == null || !registryUrl.startsWith("http")) {
            throw new IllegalArgumentException("schema registry url must be an http(s) URL, was " + registryUrl);
        }
        this.registryUrl = registryUrl.endsWith("/") ? registryUrl.substring(0, registryUrl.length() - 1) : registryUrl;
    }

    public String registryUrl() {
        return registryUrl;
    }

    /** The serde of values of one generated Avro type. */
    public <T extends SpecificRecord> Serde<T> valueSerde(Class<T> type) {
        AvroKafkaSerializer<T> serializer = new AvroKafkaSerializer<>();
        AvroKafkaDeserializer<T> deserializer = new AvroKafkaDeserializer<>();
        Map<String, Object> config = config();
        serializer.configure(config, false);
        deserializer.configure(config, false);
        return Serdes.serdeFrom(serializer, deserializer);
    }

    /** Client configuration shared by serializer and deserializer. */
    public Map<String, Object> config() {
        Map<String, Object> config = new HashMap<>();
        config.put(SchemaResolverConfig.REGISTRY_URL, registryUrl + "/apis/registry/v3");
        config.put(SchemaResolverConfig.AUTO_REGISTER_ARTIFACT, true);
        config.put(SchemaResolverConfig.HTTP_ADAPTER, "JDK");
        config.put(AvroSerdeConfig.USE_SPECIFIC_AVRO_READER, true);
        return config;
    }
}
