package io.shardline.worker.data;

import java.time.Duration;
import java.util.List;

/**
 * Where a replay learns which documents changed: a shard's CDC topic ({@link CdcTail}) or, for the last stretch
 * before and during a fence, the shard's own change stream ({@link ShardChangeStream}).
 */
public interface ChangeSource {

    /** The changes that arrive within {@code wait} (at least one poll). */
    List<CdcTail.Change> poll(Duration wait);

    /** True while changes are known or likely to be waiting: another poll would return some. */
    boolean behind();
}
