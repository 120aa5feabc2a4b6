package io.shardline.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

class ShardListingTest {

    @Test
    void shouldTakeTheListingFromItsOptions() {
        ReadCommands.Shards defaults = new ReadCommands.Shards();
        new CommandLine(defaults).parseArgs();
        ReadCommands.Shards chosen = new ReadCommands.Shards();
        new CommandLine(chosen).parseArgs("--top", "5", "--all");

        assertThat(defaults.listing.top).isEqualTo(20);
        assertThat(defaults.listing.all).isFalse();
        assertThat(chosen.listing.top).isEqualTo(5);
        assertThat(chosen.listing.all).isTrue();
    }
}
