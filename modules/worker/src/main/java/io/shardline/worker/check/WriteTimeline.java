package io.shardline.worker.check;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When each write of the {@link WriteLedger} was sent and acknowledged, so that what a document could hold at any
 * moment is known: the value of its last write acknowledged by then, or that of a write in flight at that moment (or
 * failed since it was sent, after that last acknowledged one). {@link #checkAt} holds a restore to that moment
 * against it.
 */
public final class WriteTimeline {

    /** A write: sent, acknowledged ({@link Long#MAX_VALUE} while not, or never), and the value it leaves. */
    private record Write(long sentAt, long[] acknowledgedAt, int value) {
    }

    /** What {@link #checkAt} found. */
    public record Verdict(long checked, long missing, long wrong, long duplicated, long unknown, List<String> examples) {
        public boolean clean() {
            return missing == 0 && wrong == 0 && duplicated == 0 && unknown == 0;
        }
    }

    private static final java.time.format.DateTimeFormatter CLOCK = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS")
        .withZone(java.time.ZoneId.systemDefault());

    private final Map<WriteLedger.Key, List<Write>> writes = new ConcurrentHashMap<>();

    void sent(WriteLedger.Key key, int value, long at) {
        writes.computeIfAbsent(key, k -> Collections.synchronizedList(new ArrayList<>())).add(new Write(at, new long[] {Long.MAX_VALUE}, value));
    }

    void acknowledged(WriteLedger.Key key, int value, long at) {
        List<Write> entries = writes.get(key);
        if (entries == null) {
            return;
        }
        synchronized (entries) {
            for (int i = entries.size() - 1; i >= 0; i--) {
                Write write = entries.get(i);
                if (write.value() == value && write.acknowledgedAt()[0] == Long.MAX_VALUE) {
                    write.acknowledgedAt()[0] = at;
                    return;
                }
            }
        }
    }

    /**
     * The document's last {@code limit} writes, oldest first, as {@code v=<value> sent HH:mm:ss.SSS acked HH:mm:ss.SSS}
     * (local time, as the processes log it; {@code not acked} for a write never acknowledged): to lay a lost write beside
     * those logs.
     */
    public String history(WriteLedger.Key key, int limit) {
        List<Write> entries = writes.getOrDefault(key, List.of());
        List<String> lines = new ArrayList<>();
        synchronized (entries) {
            for (Write write : entries.subList(Math.max(0, entries.size() - limit), entries.size())) {
                long acknowledged = write.acknowledgedAt()[0];
                lines.add("v=" + write.value() + " sent " + CLOCK.format(java.time.Instant.ofEpochMilli(write.sentAt()))
                    + (acknowledged == Long.MAX_VALUE ? " not acked" : " acked " + CLOCK.format(java.time.Instant.ofEpochMilli(acknowledged))));
            }
        }
        return lines.isEmpty() ? "no write recorded" : String.join("; ", lines);
    }

    /** The values the document could hold at the moment ({@link WriteLedger#DELETED}: none). */
    public Set<Integer> possibleAt(WriteLedger.Key key, long moment) {
        Set<Integer> possible = new HashSet<>();
        List<Write> entries = writes.getOrDefault(key, List.of());
        synchronized (entries) {
            Write base = null;
            for (Write write : entries) {
                long acknowledged = write.acknowledgedAt()[0];
                if (acknowledged <= moment && (base == null || acknowledged >= base.acknowledgedAt()[0])) {
                    base = write;
                }
            }
            possible.add(base == null ? WriteLedger.DELETED : base.value());
            for (Write write : entries) {
                boolean inFlight = write.sentAt() <= moment && write.acknowledgedAt()[0] > moment;
                if (inFlight && (base == null || write.sentAt() >= base.sentAt())) {
                    possible.add(write.value());
                }
            }
        }
        return possible;
    }

    /**
     * Holds documents restored as of a moment ({@code v} of each copy found, by document) against the writes: a
     * document that held a value then and is not there is missing, one with a value it could not hold then is wrong,
     * one found twice is duplicated, one never written is unknown.
     */
    public Verdict checkAt(long moment, Map<WriteLedger.Key, List<Integer>> restored) {
        return checkAt(moment, restored, Map.of());
    }

    /**
     * As {@link #checkAt(long, Map)}, where some documents were restored holding a transaction's intent: the
     * transaction's outcome is on its coordinator log, not in the document, so such a document holds at that moment
     * either its stored value or the intent's (given in {@code undecided}, {@link WriteLedger#DELETED} for a delete or an
     * insert not kept), and is right when the writes allow either.
     */
    public Verdict checkAt(long moment, Map<WriteLedger.Key, List<Integer>> restored, Map<WriteLedger.Key, Set<Integer>> undecided) {
        long missing = 0;
        long wrong = 0;
        long duplicated = 0;
        long unknown = 0;
        List<String> examples = new ArrayList<>();
        for (WriteLedger.Key key : writes.keySet()) {
            Set<Integer> possible = possibleAt(key, moment);
            List<Integer> copies = restored.getOrDefault(key, List.of());
            boolean eitherPossible = undecided.getOrDefault(key, Set.of()).stream().anyMatch(possible::contains);
            if (copies.isEmpty() && !possible.contains(WriteLedger.DELETED)) {
                missing++;
                example(examples, key + " held v=" + possible + " then, and is not restored");
            } else if (!copies.isEmpty() && !possible.contains(copies.get(0)) && !eitherPossible) {
                wrong++;
                example(examples, key + " restored with v=" + copies.get(0) + ", could only hold " + possible + " then");
            }
            if (copies.size() > 1) {
                duplicated++;
                example(examples, key + " restored " + copies.size() + " times");
            }
        }
        for (WriteLedger.Key key : restored.keySet()) {
            if (!writes.containsKey(key)) {
                unknown++;
                example(examples, key + " restored but never written");
            }
        }
        return new Verdict(writes.size(), missing, wrong, duplicated, unknown, examples);
    }

    private static void example(List<String> examples, String line) {
        if (examples.size() < 10) {
            examples.add(line);
        }
    }
}
