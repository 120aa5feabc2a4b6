package io.shardline.bench.model;

import java.time.Duration;

import io.shardline.router.RouterConfig;
import io.shardline.router.http.RouterNode;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;

/**
 * A router in its own JVM, for the model's pauses: while paused it neither acknowledges fences nor renews its lease.
 * Arguments: bootstrap servers, registry URL, topic prefix, router id, lease in milliseconds. Prints
 * {@code ROUTER_URL=<url>} once it serves.
 */
public final class RouterProcessMain {

    private RouterProcessMain() {
    }

    public static void main(String[] args) throws Exception {
        TopicCatalog catalog = new TopicCatalog(args[2], new RegistrySerdes(args[1]));
        RouterConfig config = RouterConfig.defaults(args[0], catalog).withRouterId(args[3])
            .withLeaseDuration(Duration.ofMillis(Long.parseLong(args[4]))).withSignalInterval(Duration.ofMillis(200));
        RouterNode node = RouterNode.start(config, "127.0.0.1", 0, Duration.ofSeconds(60));
        System.out.println("ROUTER_URL=" + node.url());
        System.out.flush();
        Thread.sleep(Duration.ofHours(2).toMillis());
    }
}
