package io.shardline.backup;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.bson.BsonString;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.conversions.Bson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.txn.IntentLayout;
import io.shardline.schemas.DeadLetterProducer;
import io.shardline.schemas.Topic;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.TxnRecord;

/**
 * Restores a shard's namespaces as they were at a moment: a base (the newest backup consistent by then, or, when
 * none is and the CDC topics still hold everything from the connector's start, an empty shard), then every captured
 * change after the base up to and including that moment, in the topic's order; then only the documents of the key
 * ranges the shard owned at that moment are kept. A document a cross-shard transaction held at that moment is left as
 * the transaction stood then ({@link RestoredIntents}, from the decisions topic). Every file is checked against the manifest before anything is
 * written. Progress is recorded on the target ({@code shardline.restores}), and every write is an upsert or a
 * delete by {@code _id}, so a restore run again with the same arguments resumes and never duplicates.
 */
public final class ShardRestore {

    private static final Logger LOG = LoggerFactory.getLogger(ShardRestore.class);
    static final String PROGRESS_DATABASE = RestoreRecords.DATABASE;
    private static final String INTENTS_RESOLVED = "intentsResolved";
    private static final String INTENTS_KEPT = "intentsKept";
    /** The documents a transaction holds. */
    private static final Bson HELD = Filters.exists(IntentLayout.FIELD);
    private static final int BATCH = 1_000;
    /** A restore to the newest change the topics hold when it starts. */
    public static final long LATEST = Long.MAX_VALUE;

    /**
     * @param shardId    the shard whose backups and CDC topics are read
     * @param at         the moment, epoch milliseconds, or {@link #LATEST}
     * @param backupId   the backup to start from; {@code null}: the newest one consistent by {@code at}
     * @param namespaces the namespaces to restore; {@code null}: all the base holds
     * @param targetUri  where to write: a fresh shard, or the shard itself with {@code inPlace}
     * @param inPlace    the target is the live shard: the state is built aside, then the live collections are made equal to it
     */
    public record Request(String shardId, long at, String backupId, List<String> namespaces, String targetUri, boolean inPlace) {
    }

    /**
     * What the control plane says now: the ranges the shard owns and when that was read, the migrations' history,
     * and the namespaces there are.
     */
    public record ClusterView(Map<String, List<KeyRange>> rangesNow, long now, Collection<MigrationState> migrations, List<String> namespaces) {
    }

    /**
     * What one namespace's restore did: documents loaded from the base, changes applied after it (the newest applied
     * at {@code newestChangeAt}), documents removed as outside the owned ranges, documents in the end, and how long the
     * load and the replay took; documents a transaction held at the moment, resolved as it stood then
     * ({@code intentsResolved}) or keeping their intent since its decision is not known yet ({@code intentsKept}).
     */
    public record NamespaceResult(String namespace, long loaded, long changesApplied, long removedNotOwned, long documents, long newestChangeAt,
                                 long loadMillis, long replayMillis, long intentsResolved, long intentsKept) {
    }

    /** What a restore did: its base ({@code backup <id>} or {@code stream}) and each namespace. */
    public record Result(String base, long at, List<NamespaceResult> namespaces) {
    }

    private final String bootstrapServers;
    private final BackupCatalog catalog;
    private final Topic<String, TxnRecord> decisions;
    private final DeadLetterProducer deadLetters;

    /**
     * @param decisions   the decisions topic, read for the transactions holding documents at the moment
     * @param deadLetters where a decision record that cannot be read goes
     */
    public ShardRestore(String bootstrapServers, BackupCatalog catalog, Topic<String, TxnRecord> decisions, DeadLetterProducer deadLetters) {
        this.bootstrapServers = bootstrapServers;
        this.catalog = catalog;
        this.decisions = decisions;
        this.deadLetters = deadLetters;
    }

    public Result restore(Request request, ClusterView view) {
        List<NamespaceResult> results = new ArrayList<>();
        try (MongoClient target = MongoClients.create(request.targetUri())) {
            MongoCollection<Document> progress = progress(target);
            String resumed = request.backupId() == null ? RestoreRecords.unfinishedBase(target, request.shardId(), request.at()) : null;
            RestoreBase base = RestoreBase.choose(bootstrapServers, catalog, request, view, resumed);
            if (base.manifest() != null) {
                BackupCatalog.verify(base.folder(), base.manifest());
            }
            Map<String, List<KeyRange>> owned = Ownership.at(request.shardId(), request.at() == LATEST ? view.now() : request.at(),
                base.knownRanges(), base.knownAt(), view.migrations());
            if (request.inPlace()) {
                RestoreTarget.checkInPlace(request.shardId(), base.namespaces(), owned, view);
            }
            for (String namespace : base.namespaces()) {
                String key = request.shardId() + "/" + request.at() + "/" + namespace;
                results.add(restoreNamespace(target, progress, key, request, base, namespace, owned.getOrDefault(namespace, List.of()),
                    request.at() == LATEST ? view.now() : request.at()));
            }
            return new Result(base.name(), request.at(), results);
        }
    }

    private NamespaceResult restoreNamespace(MongoClient target, MongoCollection<Document> progress, String key, Request request, RestoreBase base,
                                             String namespace, List<KeyRange> owned, long moment) {
        int dot = namespace.indexOf('.');
        MongoCollection<RawBsonDocument> live = target.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1), RawBsonDocument.class);
        MongoCollection<RawBsonDocument> stage = request.inPlace()
            ? target.getDatabase(PROGRESS_DATABASE).getCollection("restore." + namespace, RawBsonDocument.class) : live;
        Document mark = progress.find(Filters.eq("_id", key)).first();
        if (mark != null && RestoreRecords.DONE.equals(mark.getString(RestoreRecords.PHASE))) {
            LOG.info("restore {}: already done, skipped", key);
            return new NamespaceResult(namespace, mark.getLong("loaded"), mark.getLong("changes"), mark.getLong("removed"), live.countDocuments(),
                mark.getLong("newestChangeAt"), 0, 0, mark.get(INTENTS_RESOLVED, 0L), mark.get(INTENTS_KEPT, 0L));
        }
        boolean resuming = mark != null;
        if (!resuming) {
            if (request.inPlace()) {
                stage.drop();
            } else if (live.countDocuments() > 0) {
                throw new BackupException(request.targetUri() + " " + namespace + ": holds " + live.countDocuments()
                    + " documents; --into needs an empty shard, or the same restore again to resume it");
            }
            progress.insertOne(new Document("_id", key).append(RestoreRecords.SHARD, request.shardId()).append(RestoreRecords.NAMESPACE, namespace)
                .append(RestoreRecords.BASE, base.name()).append(RestoreRecords.AT, request.at()).append(RestoreRecords.PHASE, "LOADING").append(RestoreRecords.STARTED_AT, Instant.now().toEpochMilli()));
        }
        StageWriter writer = new StageWriter(stage, resuming);
        long started = System.nanoTime();
        long loaded = base.manifest() == null ? 0 : load(base, namespace, writer);
        long loadedAt = System.nanoTime();
        Replayed replayed = replay(base, request, namespace, writer);
        long replayMillis = (System.nanoTime() - loadedAt) / 1_000_000;
        Intents intents = resolveIntents(stage, writer, moment);
        long removed = writer.keepOnly(owned);
        if (request.inPlace()) {
            writer.copyOnto(live);
            stage.drop();
        } else if (base.manifest() != null) {
            RestoreTarget.createIndexes(base.folder().resolve(base.manifest().dump(namespace).metadataFile()), target.getDatabase(namespace.substring(0, dot)),
                namespace.substring(dot + 1));
        }
        progress.updateOne(Filters.eq("_id", key), new Document("$set", new Document(RestoreRecords.PHASE, RestoreRecords.DONE).append("loaded", loaded)
            .append("changes", replayed.applied()).append("removed", removed).append("newestChangeAt", replayed.newest())
            .append(RestoreRecords.OFFSET, replayed.next()).append(INTENTS_RESOLVED, intents.resolved()).append(INTENTS_KEPT, intents.kept())
            .append("finishedAt", Instant.now().toEpochMilli())));
        long documents = live.countDocuments();
        LOG.info("restore {}: {} loaded, {} changes applied, {} held by transactions resolved as at the moment and {} kept held, "
            + "{} outside the owned ranges removed, {} documents", key, loaded, replayed.applied(), intents.resolved(), intents.kept(), removed, documents);
        return new NamespaceResult(namespace, loaded, replayed.applied(), removed, documents, replayed.newest(), (loadedAt - started) / 1_000_000,
            replayMillis, intents.resolved(), intents.kept());
    }

    /** Documents held by a transaction at the moment: resolved as it stood then, and kept held (decision not known). */
    private record Intents(long resolved, long kept) {
    }

    /**
     * Leaves every document a transaction held at {@code moment} as that transaction stood then, where its decision is
     * known: one pass for the holders' ids, their decisions read once, and a second pass writing through {@code writer}'s
     * batches, so that memory holds the transactions' ids and never the documents.
     */
    private Intents resolveIntents(MongoCollection<RawBsonDocument> stage, StageWriter writer, long moment) {
        java.util.Set<String> txnIds = new java.util.HashSet<>();
        try (MongoCursor<RawBsonDocument> cursor = stage.find(HELD).projection(Projections.include(IntentLayout.FIELD + "." + IntentLayout.ID))
            .batchSize(BATCH).iterator()) {
            cursor.forEachRemaining(document -> {
                String holder = RestoredIntents.holder(document);
                if (holder != null) {
                    txnIds.add(holder);
                }
            });
        }
        if (txnIds.isEmpty()) {
            return new Intents(0, stage.countDocuments(HELD));
        }
        Map<String, TxnDecisions.Decided> decided = TxnDecisions.read(bootstrapServers, decisions, deadLetters, txnIds, moment);
        long resolved = 0;
        long kept = 0;
        try (MongoCursor<RawBsonDocument> cursor = stage.find(HELD).batchSize(BATCH).iterator()) {
            while (cursor.hasNext()) {
                RawBsonDocument document = cursor.next();
                String holder = RestoredIntents.holder(document);
                RestoredIntents.Resolution resolution = holder == null ? new RestoredIntents.Keep(null)
                    : RestoredIntents.resolve(document, decided.get(holder), moment);
                if (resolution instanceof RestoredIntents.Replace replace) {
                    writer.put(document.get("_id"), new RawBsonDocument(replace.document(), new BsonDocumentCodec()));
                    resolved++;
                } else if (resolution instanceof RestoredIntents.Delete delete) {
                    writer.put(delete.id(), null);
                    resolved++;
                } else {
                    kept++;
                }
            }
        }
        writer.flush();
        return new Intents(resolved, kept);
    }

    private static long load(RestoreBase base, String namespace, StageWriter writer) {
        BackupManifest.NamespaceDump dump = base.manifest().dump(namespace);
        Path file = base.folder().resolve(dump.dataFile());
        try {
            long count = DumpFiles.read(file, base.manifest().gzip(), writer::load);
            writer.flush();
            if (count != dump.documents()) {
                throw new BackupException(file + ": holds " + count + " documents, the manifest says " + dump.documents());
            }
            return count;
        } catch (IOException e) {
            throw new BackupException(file + ": cannot be read: " + e.getMessage(), e);
        }
    }

    /** What a replay did: changes applied, when the newest of them happened, and the first offset it did not apply. */
    private record Replayed(long applied, long newest, long next) {
    }

    /** Applies the changes after the base up to the moment. */
    private Replayed replay(RestoreBase base, Request request, String namespace, StageWriter writer) {
        String topic = TopicCatalog.cdcTopic(request.shardId(), namespace);
        long applied = 0;
        long newest = 0;
        long next = base.startOffsets().getOrDefault(namespace, 0L);
        try (CdcReader cdc = new CdcReader(bootstrapServers, topic)) {
            long end = cdc.endOffset();
            long from = base.startOffsets().getOrDefault(namespace, 0L);
            if (cdc.earliestOffset() > from) {
                throw new BackupException(topic + ": retention deleted offsets " + from + " to " + (cdc.earliestOffset() - 1)
                    + ", which the restore needs after its base " + base.name() + "; restore from a newer backup");
            }
            cdc.seek(from);
            boolean past = false;
            while (!past && cdc.position() < end) {
                for (ChangeRecord change : cdc.poll(Duration.ofMillis(500))) {
                    if (change.offset() >= end || change.wallTime() > request.at()) {
                        if (change.snapshot() && base.manifest() == null) {
                            throw new BackupException(topic + ": the connector's initial snapshot read documents until " + Instant.ofEpochMilli(change.wallTime())
                                + "; the stream alone restores to times after it");
                        }
                        past = true;
                        break;
                    }
                    next = change.offset() + 1;
                    if (!change.marker() && !change.imageMissing()) {
                        writer.apply(change);
                        applied++;
                        newest = change.wallTime();
                    }
                }
            }
        }
        writer.flush();
        return new Replayed(applied, newest, next);
    }

    /** Where the restore's progress records live on a target: one per namespace restored. */
    public static MongoCollection<Document> progress(MongoClient target) {
        return RestoreRecords.of(target);
    }

    static boolean owned(RawBsonDocument document, List<KeyRange> ranges) {
        return document.get(ShardKey.DOCUMENT_FIELD) instanceof BsonString key && Ownership.contains(ranges, ShardKey.ofHex(key.getValue()));
    }
}
