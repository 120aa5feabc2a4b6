package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.FindRequest;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/** The read cache on real CDC: a write that bypasses the router still reaches readers once Debezium reports it. */
@ShardlineCluster
class RouterCacheIT {

    private static RouterFixture fixture;
    private static String db;
    private static String ns;

    @BeforeAll
    static void layout(EmbeddedCluster cluster, TestNames names) {
        fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        db = names.database();
        ns = db + ".profiles";
        fixture.namespace(ns, ShardKeyStrategyType.TENANT, List.of("tenantId"), List.of(Chunk.active(ns, KeyRange.ALL, "s1", 1, 1)));
    }

    @Test
    void shouldServeRepeatedReadsFromTheCacheAndDropThemWhenCdcReportsAChange() throws Exception {
        try (ShardRouter router = ShardRouter.start(RouterConfig.defaults(fixture.cluster.bootstrapServers(), fixture.catalog)
            .withReadCacheEntries(100), new SimpleMeterRegistry(), Duration.ofSeconds(60));
             MongoClient direct = MongoClients.create(fixture.cluster.shards().get("s1").connectionString())) {
            router.insert("acme", ns, List.of(new Document("_id", "p1").append("name", "before")));
            FindRequest byId = FindRequest.of(new Document("_id", "p1"));

            assertThat(router.find("acme", ns, byId).documents().get(0).getString("name")).isEqualTo("before");
            assertThat(router.find("acme", ns, byId).documents().get(0).getString("name")).isEqualTo("before");
            assertThat(router.cacheHits()).isEqualTo(1);

            direct.getDatabase(db).getCollection("profiles").updateOne(Filters.eq("_id", "p1"), Updates.set("name", "after"));

            String seen = "before";
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen.equals("before") && System.nanoTime() < deadline) {
                seen = router.find("acme", ns, byId).documents().get(0).getString("name");
                Thread.sleep(20);
            }
            assertThat(seen).isEqualTo("after");
        }
    }

    @Test
    void shouldReadTheShardsEveryTimeWhenTheCacheIsOff() throws Exception {
        try (ShardRouter router = ShardRouter.start(RouterConfig.defaults(fixture.cluster.bootstrapServers(), fixture.catalog),
            new SimpleMeterRegistry(), Duration.ofSeconds(60))) {
            router.find("acme", ns, FindRequest.of(new Document()));
            router.find("acme", ns, FindRequest.of(new Document()));

            assertThat(router.cacheHits()).isZero();
        }
    }
}
