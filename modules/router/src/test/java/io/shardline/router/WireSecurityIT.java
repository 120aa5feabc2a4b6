package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoSecurityException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.wire.WireServer;
import io.shardline.router.wire.WireUsers;
import io.shardline.router.wire.WireUsers.Role;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * The wire router with users: SCRAM-SHA-256 with the MongoDB Java driver (good and bad passwords, no credentials),
 * roles, a tenant-bound user scoped exactly as an HTTP caller with that tenant, and TLS on the port.
 */
@ShardlineCluster
class WireSecurityIT {

    private static ShardRouter router;
    private static WireServer wire;
    private static String database;

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) throws Exception {
        RouterFixture fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        database = names.database();
        String users = database + ".users";
        fixture.namespace(users, ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(users, 1, InitialChunks.hashedBoundaries(4), List.of("s1", "s2")));
        router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog), new SimpleMeterRegistry(),
            Duration.ofSeconds(60));
        List<Document> documents = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            documents.add(new Document("_id", "u" + i).append("name", "user " + i));
        }
        router.insert("acme", users, documents.subList(0, 20));
        router.insert("bravo", users, documents.subList(20, 30));
        wire = WireServer.start(router, WireServer.Settings.defaults(0).withUsers(accounts(), "127.0.0.1"));
    }

    private static WireUsers accounts() {
        return WireUsers.none()
            .with("app", "app-secret", Set.of(Role.READ_WRITE), null)
            .with("acme-app", "acme-secret", Set.of(Role.READ_WRITE), "acme")
            .with("reader", "reader-secret", Set.of(Role.READ), null);
    }

    @AfterAll
    static void stop() throws Exception {
        wire.close();
        router.close();
    }

    private static MongoClient connect(String user, String password) {
        MongoClientSettings.Builder settings = MongoClientSettings.builder().applyConnectionString(new ConnectionString(wire.uri()))
            .applyToClusterSettings(c -> c.serverSelectionTimeout(5, TimeUnit.SECONDS));
        if (user != null) {
            settings.credential(MongoCredential.createCredential(user, "admin", password.toCharArray()));
        }
        return MongoClients.create(settings.build());
    }

    private static MongoCollection<Document> users(MongoClient client) {
        return client.getDatabase(database).getCollection("users");
    }

    @Test
    void shouldAuthenticateWithScramSha256AndRefuseABadPasswordOrNoCredentials() {
        try (MongoClient app = connect("app", "app-secret")) {
            assertThat(users(app).countDocuments()).as("a service user sees every tenant").isEqualTo(30);
            Document status = app.getDatabase("admin").runCommand(new Document("connectionStatus", 1));
            assertThat(status.get("authInfo", Document.class).getList("authenticatedUsers", Document.class))
                .containsExactly(new Document("user", "app").append("db", "admin"));
        }
        try (MongoClient wrong = connect("app", "not-the-secret")) {
            assertThatThrownBy(() -> users(wrong).countDocuments())
                .isInstanceOfSatisfying(MongoSecurityException.class, e ->
                    assertThat(e.getCause()).isInstanceOfSatisfying(MongoCommandException.class, c -> assertThat(c.getErrorCode()).isEqualTo(18)));
        }
        try (MongoClient nobody = connect("nobody", "whatever")) {
            assertThatThrownBy(() -> users(nobody).countDocuments()).isInstanceOf(MongoSecurityException.class);
        }
        try (MongoClient anonymous = connect(null, null)) {
            assertThatThrownBy(() -> users(anonymous).countDocuments())
                .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(13);
                    assertThat(e.getErrorMessage()).contains("requires authentication");
                });
        }
    }

    @Test
    void shouldScopeATenantBoundUserToItsTenant() {
        try (MongoClient acme = connect("acme-app", "acme-secret")) {
            MongoCollection<Document> users = users(acme);
            assertThat(users.countDocuments()).as("only acme's documents").isEqualTo(20);
            assertThat(users.find(Filters.eq("_id", "u25")).first()).as("bravo's document is not there for acme").isNull();
            assertThatThrownBy(() -> users.find(Filters.eq("tenantId", "bravo")).first())
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorCode()).isEqualTo(13));
            assertThatThrownBy(() -> users.find(Filters.where("true")).first())
                .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage()).contains("$where"));
            assertThatThrownBy(() -> users.insertOne(new Document("_id", "x1").append("tenantId", "bravo")))
                .isInstanceOfSatisfying(MongoWriteException.class, e -> assertThat(e.getCode()).isEqualTo(13));

            users.insertOne(new Document("_id", "x2"));
            assertThat(router.find("acme", database + ".users", io.shardline.router.api.FindRequest.of(new Document("_id", "x2")))
                .documents()).as("inserted into acme").hasSize(1);
            users.deleteOne(Filters.eq("_id", "x2"));
        }
    }

    @Test
    void shouldRefuseACommandTheUsersRolesDoNotAllow() {
        try (MongoClient reader = connect("reader", "reader-secret")) {
            assertThat(users(reader).countDocuments()).isEqualTo(30);
            assertThatThrownBy(() -> users(reader).insertOne(new Document("_id", "r1").append("tenantId", "acme")))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(13);
                    assertThat(e.getErrorMessage()).contains("needs readWrite");
                });
        }
    }

    @Test
    void shouldListenOnTheGivenInterfaceWithUsersAndOnLoopbackOnlyWithout() throws Exception {
        try (WireServer withUsers = WireServer.start(router, WireServer.Settings.defaults(0).withUsers(accounts(), "127.0.0.2"));
             WireServer without = WireServer.start(router, WireServer.Settings.defaults(0).withUsers(WireUsers.none(), "127.0.0.2"))) {
            assertThat(withUsers.uri()).startsWith("mongodb://127.0.0.2:");
            assertThat(without.uri()).as("no users: loopback whatever the host asked").startsWith("mongodb://127.0.0.1:");
            assertThatThrownBy(() -> new java.net.Socket("127.0.0.1", withUsers.port()).close()).isInstanceOf(java.net.ConnectException.class);
            new java.net.Socket("127.0.0.1", without.port()).close();
        }
    }

    @Test
    void shouldServeTlsWithTheGivenCertificate(@TempDir Path dir) throws Exception {
        Path keystore = dir.resolve("router.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
            "-alias", "router", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost", "-validity", "2",
            "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "changeit")
            .redirectErrorStream(true).start();
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).as(new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        KeyStore pkcs12 = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(keystore.toFile())) {
            pkcs12.load(in, "changeit".toCharArray());
        }
        Path cert = dir.resolve("router.crt");
        Path key = dir.resolve("router.key");
        Files.writeString(cert, pem("CERTIFICATE", pkcs12.getCertificate("router").getEncoded()));
        Files.writeString(key, pem("PRIVATE KEY", pkcs12.getKey("router", "changeit".toCharArray()).getEncoded()));

        try (WireServer tls = WireServer.start(router, WireServer.Settings.defaults(0).withUsers(accounts(), "127.0.0.1")
            .withTls(new WireServer.Tls(cert, key)))) {
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            try (InputStream in = Files.newInputStream(cert)) {
                Certificate certificate = CertificateFactory.getInstance("X.509").generateCertificate(in);
                trusted.setCertificateEntry("router", certificate);
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            MongoCredential credential = MongoCredential.createCredential("app", "admin", "app-secret".toCharArray());
            try (MongoClient secure = MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(tls.uri())).credential(credential)
                .applyToSslSettings(ssl -> ssl.enabled(true).context(context)).build())) {
                assertThat(users(secure).countDocuments()).isEqualTo(30);
            }
            try (MongoClient plain = MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(tls.uri())).credential(credential)
                .applyToClusterSettings(c -> c.serverSelectionTimeout(2, TimeUnit.SECONDS)).build())) {
                assertThatThrownBy(() -> users(plain).countDocuments()).as("plain TCP to a TLS port").isInstanceOf(MongoTimeoutException.class);
            }
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
            + "\n-----END " + type + "-----\n";
    }
}
