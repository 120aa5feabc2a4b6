package io.shardline.standby;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;

/**
 * Connect's side of a sink task, as a task started outside a worker sees it: the errant record reporter keeps what it
 * is given, the back-off asked for is kept, and what a test has no use for refuses to be called.
 */
final class RecordingContext implements SinkTaskContext {

    /** A record reported to the dead-letter topic and the error it was reported with. */
    record Report(SinkRecord record, Throwable error) {
    }

    private final Map<String, String> configs;
    private final boolean withReporter;
    final List<Report> reports = new ArrayList<>();
    final List<Long> timeouts = new ArrayList<>();

    RecordingContext(Map<String, String> configs, boolean withReporter) {
        this.configs = configs;
        this.withReporter = withReporter;
    }

    @Override
    public ErrantRecordReporter errantRecordReporter() {
        if (!withReporter) {
            return null;
        }
        return (record, error) -> {
            reports.add(new Report(record, error));
            return CompletableFuture.completedFuture(null);
        };
    }

    @Override
    public void timeout(long timeoutMs) {
        timeouts.add(timeoutMs);
    }

    @Override
    public Map<String, String> configs() {
        return configs;
    }

    @Override
    public void offset(Map<TopicPartition, Long> offsets) {
        throw new UnsupportedOperationException("the standby's task never rewinds");
    }

    @Override
    public void offset(TopicPartition partition, long offset) {
        throw new UnsupportedOperationException("the standby's task never rewinds");
    }

    @Override
    public Set<TopicPartition> assignment() {
        throw new UnsupportedOperationException("the standby's task does not ask for its assignment");
    }

    @Override
    public void pause(TopicPartition... partitions) {
        throw new UnsupportedOperationException("the standby's task never pauses");
    }

    @Override
    public void resume(TopicPartition... partitions) {
        throw new UnsupportedOperationException("the standby's task never pauses");
    }

    @Override
    public void requestCommit() {
        throw new UnsupportedOperationException("the standby's task leaves commits to Connect");
    }

    @Override
    public PluginMetrics pluginMetrics() {
        throw new UnsupportedOperationException("the standby's task has no metrics of its own");
    }
}
