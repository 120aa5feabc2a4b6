package io.shardline.worker;

import java.time.Duration;

import io.shardline.router.RouterConfig;
import io.shardline.router.http.RouterNode;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;

/**
 * A router in its own JVM (HTTP), for tests that pause it with SIGSTOP. Prints {@code ROUTER_URL=<url>} once it serves.
 *
 * <p>Arguments: bootstrap servers, registry URL, topic prefix, router id, lease in milliseconds.
 */
public final class RouterProcessMain {

    private RouterProcessMain() {
    }

    public static void main(String[] args) throws Exception {
        TopicCatalog catalog = new TopicCatalog(args[2], new RegistrySerdes(args[1]));
        RouterConfig config = RouterConfig.defaults(args[0], catalog).withRouterId(args[3])
            .withLeaseDuration(Duration.ofMillis(Long.parseLong(args[4]))).withSignalInterval(Duration.ofMillis(200))
            .withFenceBudget(Duration.ofSeconds(5));
        RouterNode node = RouterNode.start(config, "127.0.0.1", 0, Duration.ofSeconds(60));
        System.out.println("ROUTER_URL=" + node.url());
        System.out.flush();
        Thread.sleep(Duration.ofHours(1).toMillis());
    }
}
