package io.shardline.standby;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;

/**
 * The settings of a standby's sink connector and of its task: where the standby is
 * ({@value #CONNECTION_STRING}, a MongoDB connection string, kept out of Connect's logs and REST answers as a
 * password is, since it may hold credentials) and which shard it stands by for ({@value #SHARD_ID}). A setting that
 * is missing or unusable fails with a {@link ConfigException} naming it.
 */
final class StandbySinkConfig extends AbstractConfig {

    static final String CONNECTION_STRING = "standby.connection.string";
    /** How long a write waits for the standby to be found, and for its answer, unless the connection string says otherwise. */
    private static final int SERVER_SELECTION_TIMEOUT_S = 10;
    private static final int READ_TIMEOUT_S = 60;
    static final String SHARD_ID = "standby.shard.id";

    static final ConfigDef DEFINITION = new ConfigDef()
        .define(CONNECTION_STRING, ConfigDef.Type.PASSWORD, ConfigDef.NO_DEFAULT_VALUE, new MongoUri(), ConfigDef.Importance.HIGH,
            "MongoDB connection string of the standby the shard's changes are applied to, e.g. mongodb://host:27017/?replicaSet=rs")
        .define(SHARD_ID, ConfigDef.Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyStringWithoutControlChars(),
            ConfigDef.Importance.HIGH, "Id of the shard the standby stands by for; only its CDC topics (cdc.<shard>.<db>.<coll>) are applied");

    StandbySinkConfig(Map<String, String> settings) {
        super(DEFINITION, settings);
    }

    ConnectionString connectionString() {
        return new ConnectionString(getPassword(CONNECTION_STRING).value());
    }

    /**
     * The driver's settings for the standby: the connection string's, with a bounded wait for the standby to be found
     * ({@value #SERVER_SELECTION_TIMEOUT_S} s) and to answer ({@value #READ_TIMEOUT_S} s) unless it names its own.
     */
    MongoClientSettings clientSettings() {
        return MongoClientSettings.builder()
            .applyToClusterSettings(cluster -> cluster.serverSelectionTimeout(SERVER_SELECTION_TIMEOUT_S, TimeUnit.SECONDS))
            .applyToSocketSettings(socket -> socket.readTimeout(READ_TIMEOUT_S, TimeUnit.SECONDS))
            .applyConnectionString(connectionString())
            .build();
    }

    String shardId() {
        return getString(SHARD_ID);
    }

    /** Accepts what the MongoDB driver reads as a connection string; the refusal names the setting, never its value. */
    private static final class MongoUri implements ConfigDef.Validator {

        @Override
        public void ensureValid(String name, Object value) {
            if (value == null) {
                return;
            }
            String uri = ((Password) value).value();
            try {
                new ConnectionString(uri);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(name + ": not a MongoDB connection string (" + e.getMessage() + ")");
            }
        }

        @Override
        public String toString() {
            return "a MongoDB connection string (mongodb:// or mongodb+srv://)";
        }
    }
}
