package io.shardline.router.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.shardline.router.api.Explain;

class WireExplainTest {

    private static Explain explain(Map<String, List<String>> shardChunks) {
        List<String> chunks = shardChunks.values().stream().flatMap(List::stream).toList();
        return new Explain("db.users", shardChunks.size() > 1, "userId equality", List.of("[0a, 0b)"), chunks,
            List.copyOf(shardChunks.keySet()), 42, shardChunks);
    }

    private static String stage(Document reply) {
        return reply.get("queryPlanner", Document.class).get("winningPlan", Document.class).getString("stage");
    }

    @Test
    void shouldNameTheStageAsMongosDoes() {
        Map<String, List<String>> two = new LinkedHashMap<>();
        two.put("s1", List.of("[MIN, 0a)@s1 v3"));
        two.put("s2", List.of("[0a, MAX)@s2 v4"));

        assertThat(stage(WireExplain.reply(explain(Map.of()), new Document(), false))).isEqualTo("EOF");
        assertThat(stage(WireExplain.reply(explain(Map.of("s1", List.of("[MIN, MAX)@s1 v1"))), new Document(), true))).isEqualTo("SINGLE_SHARD");
        assertThat(stage(WireExplain.reply(explain(two), new Document(), false))).isEqualTo("SHARD_MERGE");
        assertThat(stage(WireExplain.reply(explain(two), new Document(), true))).isEqualTo("SHARD_MERGE_SORT");
    }

    @Test
    void shouldListEachShardWithItsChunksAndShardlinesOwnAccount() {
        Map<String, List<String>> two = new LinkedHashMap<>();
        two.put("s1", List.of("[MIN, 0a)@s1 v3"));
        two.put("s2", List.of("[0a, MAX)@s2 v4"));
        Document command = new Document("find", "users").append("filter", new Document("userId", "u1"));

        Document reply = WireExplain.reply(explain(two), command, false);

        Document planner = reply.get("queryPlanner", Document.class);
        assertThat(planner.getInteger("mongosPlannerVersion")).isEqualTo(1);
        assertThat(planner.get("winningPlan", Document.class).getList("shards", Document.class)).containsExactly(
            new Document("shardName", "s1").append("namespace", "db.users").append("chunks", List.of("[MIN, 0a)@s1 v3")),
            new Document("shardName", "s2").append("namespace", "db.users").append("chunks", List.of("[0a, MAX)@s2 v4")));
        assertThat(reply.get("shardline", Document.class)).isEqualTo(new Document("namespace", "db.users").append("allShards", true)
            .append("reason", "userId equality").append("keyRanges", List.of("[0a, 0b)"))
            .append("chunks", List.of("[MIN, 0a)@s1 v3", "[0a, MAX)@s2 v4")).append("shards", List.of("s1", "s2"))
            .append("routingVersion", 42L));
        assertThat(reply.get("command")).isEqualTo(command);
        assertThat(reply.get("ok")).isEqualTo(1.0);
    }

    @Test
    void shouldAnswerTheQueryPlannerVerbosityOnly() {
        WireExplain.verbosity(null);
        WireExplain.verbosity("queryPlanner");

        for (String running : List.of("executionStats", "allPlansExecution")) {
            assertThatThrownBy(() -> WireExplain.verbosity(running)).isInstanceOfSatisfying(WireCommandException.class, e -> {
                assertThat(e.error().code()).isEqualTo(WireError.INVALID_OPTIONS);
                assertThat(e.getMessage()).contains("explain.verbosity", running, "without running it");
            });
        }
        for (Object wrong : List.of("everything", 1, true)) {
            assertThatThrownBy(() -> WireExplain.verbosity(wrong)).isInstanceOfSatisfying(WireCommandException.class, e -> {
                assertThat(e.error().code()).isEqualTo(WireError.BAD_VALUE);
                assertThat(e.getMessage()).contains("explain.verbosity must be one of");
            });
        }
    }
}
