package io.shardline.cli.config;

import java.io.Reader;
import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.core.time.Durations;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.WriteDurability;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;

/**
 * A cluster's declaration, {@code shardline.yaml}: where its control plane is (optional {@code kafka} section), its
 * shards (id, MongoDB URI, capacities) and namespaces (strategy, shard key, thresholds, initial chunks). Parsing keeps the line of every value, so each problem is reported as
 * {@code file:line: field: what is wrong}, all of them at once.
 *
 * <pre>
 * kafka:
 *   bootstrap: kafka:9092
 *   registry: http://schema-registry:8080
 *   topicPrefix: shardline.
 * shards:
 *   - id: s1
 *     uri: mongodb://mongo-s1:27017/?replicaSet=rs-s1
 *     capacityBytes: 268435456
 *     capacityOpsPerSec: 2000
 *     zones: [eu]                 # optional: the zones the shard belongs to
 * namespaces:
 *   - namespace: auth.users
 *     strategy: tenant            # tenant | hashed | time
 *     shardKey: [tenantId, _id]
 *     tenantSuffixBuckets: 16     # tenant: a big tenant can be split over this many hashed sub-ranges
 *     timeBucket: 1h              # time: the bucket of the time field
 *     initialChunks: 6            # default: two per shard
 *     thresholds: {splitStorage: 0.8, splitLoad: 0.7, merge: 0.2, sustainedWindows: 3, minChunkAge: 10m}
 *     durability: standby         # standby (default) | primary: when routers acknowledge a write (see WriteDurability)
 *     zones:                      # optional: key ranges pinned to a zone, as a tenant or as hex bounds (max: none for +inf)
 *       - {zone: eu, tenant: acme}
 *       - {zone: eu, min: "8000", max: "9000"}
 * users:                          # who may use the router's MongoDB wire protocol (SCRAM-SHA-256)
 *   - name: auth-service
 *     passwordFile: secrets/auth-service.password   # first line; relative to this file
 *     roles: [readWrite]          # read | readWrite | admin
 *     tenant: acme                # optional: the user reaches this tenant's documents only
 * backup:                         # the backup role's schedule (shardline backup-agent)
 *   every: 1h
 *   keep: 24
 *   dir: /var/backups/shardline
 *   gzip: true                    # optional, default false
 *   staleAfter: 3h                # optional, default twice every
 * </pre>
 */
public final class ClusterFile {

    /** Where the control plane is; each part {@code null} when the file does not say. */
    public record Kafka(String bootstrap, String registry, String topicPrefix) {
    }

    /** A user of the router's wire protocol, as declared; the password stays in its file until a router reads it. */
    public record User(String name, String passwordFile, List<String> roles, String tenant) {
    }

    /** The backup role's schedule; {@code null} when the file has no backup section. */
    public record Backup(Duration every, long keep, String dir, boolean gzip, Duration staleAfter) {
    }

    /** One namespace as declared, with the number of chunks of its first routing table. */
    public record Namespace(NamespaceConfig config, int initialChunks) {
    }

    /** The file does not fit: every problem found, each with its line and field. */
    public static final class Invalid extends IllegalArgumentException {
        private final List<String> problems;

        Invalid(List<String> problems) {
            super(String.join("\n", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }

    private final Kafka kafka;
    private final List<ShardDescriptor> shards;
    private final List<Namespace> namespaces;
    private final List<User> users;
    private final Backup backup;

    private ClusterFile(Kafka kafka, List<ShardDescriptor> shards, List<Namespace> namespaces, List<User> users, Backup backup) {
        this.kafka = kafka;
        this.shards = shards;
        this.namespaces = namespaces;
        this.users = users;
        this.backup = backup;
    }

    /** The backup schedule; {@code null} when the file declares none. */
    public Backup backup() {
        return backup;
    }

    /** The wire protocol's users; empty when the file declares none. */
    public List<User> users() {
        return users;
    }

    public Kafka kafka() {
        return kafka;
    }

    public List<ShardDescriptor> shards() {
        return shards;
    }

    public List<Namespace> namespaces() {
        return namespaces;
    }

    public static ClusterFile parse(String name, String text) {
        return new Parser(name).parse(new StringReader(text));
    }

    /** Walks the composed YAML nodes, which keep their position, and collects problems instead of stopping at the first. */
    private static final class Parser {
        private final String name;
        private final List<String> problems = new ArrayList<>();

        Parser(String name) {
            this.name = name;
        }

        ClusterFile parse(Reader reader) {
            Node root;
            try {
                root = new Yaml(new LoaderOptions()).compose(reader);
            } catch (MarkedYAMLException e) {
                Mark mark = e.getProblemMark();
                throw new Invalid(List.of(name + ":" + (mark == null ? "?" : mark.getLine() + 1) + ": not valid YAML: " + e.getProblem()));
            }
            if (!(root instanceof MappingNode top)) {
                throw new Invalid(List.of(name + ":1: the file must be a mapping with shards and namespaces"));
            }
            Map<String, Node> fields = fields(top, "", Set.of("kafka", "shards", "namespaces", "users", "backup"));
            Kafka kafka = new Kafka(null, null, null);
            Node kafkaNode = fields.get("kafka");
            if (kafkaNode instanceof MappingNode mapping) {
                Map<String, Node> section = fields(mapping, "kafka.", Set.of("bootstrap", "registry", "topicPrefix"));
                kafka = new Kafka(text(section, "bootstrap", "kafka", mapping, false), text(section, "registry", "kafka", mapping, false),
                    text(section, "topicPrefix", "kafka", mapping, false));
                if (kafka.registry() != null && !kafka.registry().startsWith("http")) {
                    problem(section.get("registry"), "kafka.registry", "must be an http(s) URL, was '" + kafka.registry() + "'");
                }
            } else if (kafkaNode != null) {
                problem(kafkaNode, "kafka", "must be a mapping of bootstrap, registry, topicPrefix");
            }
            List<ShardDescriptor> shards = new ArrayList<>();
            Set<String> shardIds = new HashSet<>();
            for (Map.Entry<Integer, MappingNode> entry : list(fields, "shards", top, true).entrySet()) {
                String path = "shards[" + entry.getKey() + "]";
                Map<String, Node> shard = fields(entry.getValue(), path + ".", Set.of("id", "uri", "capacityBytes", "capacityOpsPerSec", "zones"));
                String id = text(shard, "id", path, entry.getValue(), true);
                String uri = text(shard, "uri", path, entry.getValue(), true);
                long bytes = positive(shard, "capacityBytes", path, entry.getValue(), true, 0);
                long ops = positive(shard, "capacityOpsPerSec", path, entry.getValue(), true, 0);
                if (uri != null && !uri.startsWith("mongodb://") && !uri.startsWith("mongodb+srv://")) {
                    problem(shard.get("uri"), path + ".uri", "must be a MongoDB connection string (mongodb:// or mongodb+srv://)");
                }
                if (id != null && !shardIds.add(id)) {
                    problem(shard.get("id"), path + ".id", "shard " + id + " is declared twice");
                }
                List<String> zones = names(shard.get("zones"), path + ".zones");
                if (id != null && uri != null) {
                    shards.add(ShardDescriptor.newBuilder().setShardId(id).setConnectionString(uri).setCapacityBytes(bytes)
                        .setCapacityOpsPerSec(ops).setState(ShardState.ACTIVE).setZones(zones).setVersion(1).setUpdatedAt(Instant.now()).build());
                }
            }
            List<Namespace> namespaces = new ArrayList<>();
            Set<String> names = new HashSet<>();
            for (Map.Entry<Integer, MappingNode> entry : list(fields, "namespaces", top, true).entrySet()) {
                Namespace namespace = namespace(entry.getValue(), "namespaces[" + entry.getKey() + "]", Math.max(1, shards.size()));
                if (namespace != null && !names.add(namespace.config().getNamespace())) {
                    problem(entry.getValue(), "namespaces[" + entry.getKey() + "].namespace", namespace.config().getNamespace() + " is declared twice");
                }
                if (namespace != null) {
                    namespaces.add(namespace);
                }
            }
            Set<String> zonesWithShards = new HashSet<>();
            shards.forEach(shard -> zonesWithShards.addAll(shard.getZones()));
            for (int i = 0; i < namespaces.size(); i++) {
                for (io.shardline.schemas.avro.ZoneRange range : namespaces.get(i).config().getZones()) {
                    if (!zonesWithShards.contains(range.getZone())) {
                        problem(top, "namespaces[" + i + "].zones", "zone " + range.getZone() + " has no shard (give a shard zones: [" + range.getZone() + "])");
                    }
                }
            }
            List<User> users = new ArrayList<>();
            Set<String> userNames = new HashSet<>();
            for (Map.Entry<Integer, MappingNode> entry : list(fields, "users", top, false).entrySet()) {
                User user = user(entry.getValue(), "users[" + entry.getKey() + "]");
                if (user != null && !userNames.add(user.name())) {
                    problem(entry.getValue(), "users[" + entry.getKey() + "].name", "user " + user.name() + " is declared twice");
                } else if (user != null) {
                    users.add(user);
                }
            }
            Backup backup = backup(fields.get("backup"));
            if (!problems.isEmpty()) {
                throw new Invalid(problems);
            }
            return new ClusterFile(kafka, shards, namespaces, users, backup);
        }

        private Backup backup(Node node) {
            if (node == null) {
                return null;
            }
            if (!(node instanceof MappingNode mapping)) {
                problem(node, "backup", "must be a mapping of every, keep, dir, gzip, staleAfter");
                return null;
            }
            Map<String, Node> section = fields(mapping, "backup.", Set.of("every", "keep", "dir", "gzip", "staleAfter"));
            Duration every = duration(section, "every", "backup");
            if (every == null && section.get("every") == null) {
                problem(mapping, "backup.every", "is required");
            }
            long keep = positive(section, "keep", "backup", mapping, true, 1);
            String dir = text(section, "dir", "backup", mapping, true);
            String gzip = text(section, "gzip", "backup", mapping, false);
            if (gzip != null && !Set.of("true", "false").contains(gzip)) {
                problem(section.get("gzip"), "backup.gzip", "must be true or false, was '" + gzip + "'");
            }
            Duration staleAfter = duration(section, "staleAfter", "backup");
            if (every != null && staleAfter != null && staleAfter.compareTo(every) <= 0) {
                problem(section.get("staleAfter"), "backup.staleAfter", "must be longer than every (" + every + "), was " + staleAfter);
            }
            return new Backup(every, keep, dir, "true".equals(gzip), staleAfter == null && every != null ? every.multipliedBy(2) : staleAfter);
        }

        private User user(MappingNode node, String path) {
            Map<String, Node> fields = fields(node, path + ".", Set.of("name", "passwordFile", "roles", "tenant"));
            String name = text(fields, "name", path, node, true);
            String passwordFile = text(fields, "passwordFile", path, node, true);
            String tenant = text(fields, "tenant", path, node, false);
            List<String> roles = new ArrayList<>();
            Node rolesNode = fields.get("roles");
            if (rolesNode == null) {
                problem(node, path + ".roles", "is required (read, readWrite or admin)");
            } else if (rolesNode instanceof SequenceNode sequence && !sequence.getValue().isEmpty()
                && sequence.getValue().stream().allMatch(ScalarNode.class::isInstance)) {
                sequence.getValue().forEach(role -> roles.add(((ScalarNode) role).getValue()));
                for (String role : roles) {
                    if (!Set.of("read", "readWrite", "admin").contains(role)) {
                        problem(rolesNode, path + ".roles", "'" + role + "' is not one of read, readWrite, admin");
                    }
                }
                if (tenant != null && roles.contains("admin")) {
                    problem(rolesNode, path + ".roles", "a user bound to tenant " + tenant + " cannot be admin (administration reaches every tenant)");
                }
            } else {
                problem(rolesNode, path + ".roles", "must be a non-empty list of read, readWrite, admin");
            }
            if (name == null || passwordFile == null) {
                return null;
            }
            return new User(name, passwordFile, List.copyOf(roles), tenant);
        }

        private Namespace namespace(MappingNode node, String path, int shardCount) {
            Map<String, Node> fields = fields(node, path + ".", Set.of("namespace", "strategy", "shardKey", "tenantSuffixBuckets", "timeBucket",
                "initialChunks", "thresholds", "zones", "durability"));
            String namespace = text(fields, "namespace", path, node, true);
            if (namespace != null && !namespace.matches("[^.\\s]+\\.[^\\s]+")) {
                problem(fields.get("namespace"), path + ".namespace", "must be <database>.<collection>, was '" + namespace + "'");
                namespace = null;
            }
            String strategyText = text(fields, "strategy", path, node, true);
            ShardKeyStrategyType strategy = null;
            if (strategyText != null) {
                try {
                    strategy = ShardKeyStrategyType.valueOf(strategyText.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    problem(fields.get("strategy"), path + ".strategy", "'" + strategyText + "' is not one of tenant, hashed, time");
                }
            }
            List<String> shardKey = new ArrayList<>();
            Node keyNode = fields.get("shardKey");
            boolean keyRead = false;
            if (keyNode == null) {
                problem(node, path + ".shardKey", "is required");
            } else if (keyNode instanceof SequenceNode sequence && sequence.getValue().stream().allMatch(ScalarNode.class::isInstance)) {
                sequence.getValue().forEach(field -> shardKey.add(((ScalarNode) field).getValue()));
                keyRead = true;
            } else {
                problem(keyNode, path + ".shardKey", "must be a list of field names");
            }
            long buckets = positive(fields, "tenantSuffixBuckets", path, node, false, 0);
            Duration timeBucket = duration(fields, "timeBucket", path);
            long chunks = positive(fields, "initialChunks", path, node, false, 2L * shardCount);
            Thresholds thresholds = thresholds(fields.get("thresholds"), path + ".thresholds");
            String durabilityText = text(fields, "durability", path, node, false);
            WriteDurability durability = WriteDurability.STANDBY;
            if (durabilityText != null) {
                try {
                    durability = WriteDurability.valueOf(durabilityText.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    problem(fields.get("durability"), path + ".durability", "'" + durabilityText + "' is not one of standby, primary");
                }
            }
            if (namespace == null || strategy == null || !keyRead) {
                return null;
            }
            NamespaceConfig config = NamespaceConfig.newBuilder().setNamespace(namespace).setStrategy(strategy).setShardKeyFields(shardKey)
                .setTenantSuffixBuckets(buckets > 0 ? (int) buckets : null).setTimeBucketMillis(timeBucket == null ? null : timeBucket.toMillis())
                .setThresholds(thresholds).setDurability(durability).setEpoch(1).setVersion(1).build();
            try {
                ShardKeyStrategies.of(config);
            } catch (IllegalArgumentException e) {
                problem(node, path, e.getMessage());
                return null;
            }
            config.setZones(zoneRanges(fields, config, path));
            return new Namespace(config, (int) chunks);
        }

        /** A namespace's key ranges pinned to zones, as declared; {@link ZoneRanges} checks and resolves them. */
        private List<io.shardline.schemas.avro.ZoneRange> zoneRanges(Map<String, Node> fields, NamespaceConfig config, String path) {
            List<ZoneRanges.Declared> declared = new ArrayList<>();
            for (Map.Entry<Integer, MappingNode> entry : list(fields, "zones", null, false).entrySet()) {
                String at = path + ".zones[" + entry.getKey() + "]";
                MappingNode item = entry.getValue();
                Map<String, Node> range = fields(item, at + ".", Set.of("zone", "tenant", "min", "max"));
                declared.add(new ZoneRanges.Declared(at, item, range.get("tenant"), text(range, "zone", at, item, true), text(range, "tenant", at, item, false),
                    text(range, "min", at, item, false), text(range, "max", at, item, false)));
            }
            return ZoneRanges.resolve(config, declared, this::problem);
        }

        /** A list of names ({@code [eu, us]}), empty when absent. */
        private List<String> names(Node node, String path) {
            List<String> names = new ArrayList<>();
            if (node == null) {
                return names;
            }
            if (node instanceof SequenceNode sequence && sequence.getValue().stream().allMatch(ScalarNode.class::isInstance)) {
                sequence.getValue().forEach(item -> names.add(((ScalarNode) item).getValue()));
            } else {
                problem(node, path, "must be a list of names");
            }
            return names;
        }

        private Thresholds thresholds(Node node, String path) {
            Thresholds.Builder thresholds = Thresholds.newBuilder();
            if (node == null) {
                return thresholds.build();
            }
            if (!(node instanceof MappingNode mapping)) {
                problem(node, path, "must be a mapping");
                return thresholds.build();
            }
            Map<String, Node> fields = fields(mapping, path + ".", Set.of("splitStorage", "splitLoad", "merge", "sustainedWindows", "minChunkAge"));
            Double splitStorage = ratio(fields, "splitStorage", path);
            Double splitLoad = ratio(fields, "splitLoad", path);
            Double merge = ratio(fields, "merge", path);
            if (splitStorage != null) {
                thresholds.setSplitStorageRatio(splitStorage);
            }
            if (splitLoad != null) {
                thresholds.setSplitLoadRatio(splitLoad);
            }
            if (merge != null) {
                thresholds.setMergeRatio(merge);
            }
            long windows = positive(fields, "sustainedWindows", path, mapping, false, 0);
            if (windows > 0) {
                thresholds.setSustainedWindows((int) windows);
            }
            Duration age = duration(fields, "minChunkAge", path);
            if (age != null) {
                thresholds.setMinChunkAgeMillis(age.toMillis());
            }
            Thresholds built = thresholds.build();
            if (built.getMergeRatio() >= Math.min(built.getSplitStorageRatio(), built.getSplitLoadRatio()) / 2) {
                problem(fields.getOrDefault("merge", node), path + ".merge", "must stay under half the split ratios, or a merge would be split again");
            }
            return built;
        }

        private Map<String, Node> fields(MappingNode node, String prefix, Set<String> known) {
            Map<String, Node> fields = new LinkedHashMap<>();
            for (NodeTuple tuple : node.getValue()) {
                String key = tuple.getKeyNode() instanceof ScalarNode scalar ? scalar.getValue() : null;
                if (key == null || !known.contains(key)) {
                    problem(tuple.getKeyNode(), prefix + (key == null ? "?" : key), "unknown field (known: " + String.join(", ", known.stream().sorted().toList()) + ")");
                } else if (fields.put(key, tuple.getValueNode()) != null) {
                    problem(tuple.getKeyNode(), prefix + key, "given twice");
                }
            }
            return fields;
        }

        private Map<Integer, MappingNode> list(Map<String, Node> fields, String field, Node parent, boolean required) {
            Map<Integer, MappingNode> items = new LinkedHashMap<>();
            Node node = fields.get(field);
            if (node == null) {
                if (required) {
                    problem(parent, field, "is required");
                }
                return items;
            }
            if (!(node instanceof SequenceNode sequence)) {
                problem(node, field, "must be a list");
                return items;
            }
            for (int i = 0; i < sequence.getValue().size(); i++) {
                Node item = sequence.getValue().get(i);
                if (item instanceof MappingNode mapping) {
                    items.put(i, mapping);
                } else {
                    problem(item, field + "[" + i + "]", "must be a mapping");
                }
            }
            if (required && items.isEmpty() && sequence.getValue().isEmpty()) {
                problem(node, field, "must not be empty");
            }
            return items;
        }

        private String text(Map<String, Node> fields, String field, String path, Node parent, boolean required) {
            Node node = fields.get(field);
            if (node == null) {
                if (required) {
                    problem(parent, path + "." + field, "is required");
                }
                return null;
            }
            if (!(node instanceof ScalarNode scalar) || scalar.getValue().isBlank()) {
                problem(node, path + "." + field, "must be a non-empty text");
                return null;
            }
            return scalar.getValue();
        }

        private long positive(Map<String, Node> fields, String field, String path, Node parent, boolean required, long fallback) {
            String value = text(fields, field, path, parent, required);
            if (value == null) {
                return fallback;
            }
            Long parsed = parseLong(value.replace("_", ""));
            if (parsed == null || parsed < 1) {
                problem(fields.get(field), path + "." + field, "must be a positive integer, was '" + value + "'");
                return fallback;
            }
            return parsed;
        }

        private Double ratio(Map<String, Node> fields, String field, String path) {
            String value = text(fields, field, path, null, false);
            if (value == null) {
                return null;
            }
            Double parsed = parseDouble(value);
            if (parsed == null || parsed <= 0 || parsed >= 1) {
                problem(fields.get(field), path + "." + field, "must be a ratio between 0 and 1, was '" + value + "'");
                return null;
            }
            return parsed;
        }

        private static Long parseLong(String value) {
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                return null;
            }
        }

        private static Double parseDouble(String value) {
            try {
                return Double.parseDouble(value);
            } catch (NumberFormatException e) {
                return null;
            }
        }

        private Duration duration(Map<String, Node> fields, String field, String path) {
            String value = text(fields, field, path, null, false);
            if (value == null) {
                return null;
            }
            Duration duration = readDuration(value);
            if (duration == null || duration.isNegative() || duration.isZero()) {
                problem(fields.get(field), path + "." + field, "must be a duration above zero like " + Durations.FORMS + ", was '" + value + "'");
                return null;
            }
            return duration;
        }

        private static Duration readDuration(String value) {
            try {
                return Durations.parse(value);
            } catch (IllegalArgumentException e) {
                return null;
            }
        }

        private void problem(Node node, String field, String message) {
            String line = node == null ? "?" : Integer.toString(node.getStartMark().getLine() + 1);
            problems.add(name + ":" + line + ": " + field + ": " + message);
        }
    }
}
