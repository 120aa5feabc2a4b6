package io.shardline.router.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import org.bson.BsonBinaryReader;
import org.bson.BsonBinaryWriter;
import org.bson.BsonSerializationException;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.codecs.Codec;
import org.bson.codecs.DecoderContext;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;

import com.mongodb.MongoClientSettings;

/**
 * The MongoDB wire protocol's message layout (header, {@code OP_MSG} sections, legacy {@code OP_QUERY} and
 * {@code OP_REPLY}); the BSON inside is read and written by the MongoDB driver's own codecs.
 */
public final class WireCodec {

    public static final int OP_REPLY = 1;
    public static final int OP_QUERY = 2004;
    public static final int OP_COMPRESSED = 2012;
    public static final int OP_MSG = 2013;
    /** The largest message a client may send: MongoDB's {@code maxMessageSizeBytes}. */
    public static final int MAX_MESSAGE_BYTES = 48_000_000;
    /** The largest document: MongoDB's {@code maxBsonObjectSize}. */
    public static final int MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

    private static final int CHECKSUM_PRESENT = 1;
    private static final int MORE_TO_COME = 1 << 1;
    private static final int EXHAUST_ALLOWED = 1 << 16;
    /** Flag bits a client may set; any other required bit (0-15) is one this server does not know, which is an error. */
    private static final int KNOWN_FLAGS = CHECKSUM_PRESENT | MORE_TO_COME | EXHAUST_ALLOWED;
    private static final Codec<Document> DOCUMENTS = MongoClientSettings.getDefaultCodecRegistry().get(Document.class);

    private WireCodec() {
    }

    /**
     * Reads one message.
     *
     * @param message the message after its 4-byte length
     * @throws WireProtocolException when the message breaks the protocol (the connection is then closed)
     */
    public static WireMessage decode(byte[] message) {
        ByteBuffer buffer = ByteBuffer.wrap(message).order(ByteOrder.LITTLE_ENDIAN);
        if (buffer.remaining() < 12) {
            throw new WireProtocolException("message header: " + (message.length + 4) + " bytes is shorter than a header (16)");
        }
        int requestId = buffer.getInt();
        buffer.getInt(); // responseTo: clients send 0
        int opCode = buffer.getInt();
        try {
            return switch (opCode) {
                case OP_MSG -> decodeMessage(requestId, buffer, message);
                case OP_QUERY -> decodeQuery(requestId, buffer);
                case OP_COMPRESSED -> throw new WireProtocolException("opCode: OP_COMPRESSED is not supported (this server offers no compressors)");
                default -> throw new WireProtocolException("opCode: " + opCode + " is not supported (only OP_MSG, and OP_QUERY for the first hello)");
            };
        } catch (BsonSerializationException | IllegalArgumentException | java.nio.BufferUnderflowException e) {
            throw new WireProtocolException("message " + requestId + ": malformed " + (opCode == OP_MSG ? "OP_MSG" : "OP_QUERY")
                + ": " + e.getMessage(), e);
        }
    }

    private static WireMessage decodeMessage(int requestId, ByteBuffer buffer, byte[] message) {
        int flags = buffer.getInt();
        int unknownRequired = flags & 0xFFFF & ~KNOWN_FLAGS;
        if (unknownRequired != 0) {
            throw new WireProtocolException("flagBits: unknown required bits 0x" + Integer.toHexString(unknownRequired));
        }
        int end = message.length;
        if ((flags & CHECKSUM_PRESENT) != 0) {
            end -= 4;
            CRC32C crc = new CRC32C();
            // The checksum covers the whole message, its length included.
            ByteBuffer length = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(message.length + 4);
            crc.update(length.array());
            crc.update(message, 0, end);
            int expected = ByteBuffer.wrap(message, end, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if ((int) crc.getValue() != expected) {
                throw new WireProtocolException("checksum: the message's CRC-32C does not match its content");
            }
        }
        Document body = null;
        List<String> sequenceNames = new ArrayList<>();
        List<List<Document>> sequences = new ArrayList<>();
        while (buffer.position() < end) {
            byte kind = buffer.get();
            if (kind == 0) {
                if (body != null) {
                    throw new WireProtocolException("sections: more than one body section");
                }
                body = readDocument(buffer, end);
            } else if (kind == 1) {
                int start = buffer.position();
                int size = buffer.getInt();
                int sectionEnd = start + size;
                if (size < 5 || sectionEnd > end) {
                    throw new WireProtocolException("sections: a document sequence of " + size + " bytes overruns the message");
                }
                String name = readCString(buffer, sectionEnd);
                List<Document> documents = new ArrayList<>();
                while (buffer.position() < sectionEnd) {
                    documents.add(readDocument(buffer, sectionEnd));
                }
                sequenceNames.add(name);
                sequences.add(documents);
            } else {
                throw new WireProtocolException("sections: unknown section kind " + kind);
            }
        }
        if (body == null) {
            throw new WireProtocolException("sections: OP_MSG " + requestId + " has no body section");
        }
        for (int i = 0; i < sequenceNames.size(); i++) {
            if (body.containsKey(sequenceNames.get(i))) {
                throw new WireProtocolException("sections: '" + sequenceNames.get(i) + "' is both in the body and a document sequence");
            }
            body.put(sequenceNames.get(i), sequences.get(i));
        }
        Object database = body.get("$db");
        if (!(database instanceof String name) || name.isEmpty()) {
            throw new WireProtocolException("$db: every OP_MSG command names its database in $db, as a string");
        }
        return new WireMessage(requestId, false, (flags & MORE_TO_COME) != 0, name, body);
    }

    private static WireMessage decodeQuery(int requestId, ByteBuffer buffer) {
        buffer.getInt(); // flags
        String collection = readCString(buffer, buffer.limit());
        buffer.getInt(); // numberToSkip
        buffer.getInt(); // numberToReturn
        Document query = readDocument(buffer, buffer.limit());
        int dot = collection.indexOf('.');
        if (dot <= 0 || !collection.substring(dot + 1).equals("$cmd")) {
            throw new WireProtocolException("fullCollectionName: OP_QUERY is only accepted on <db>.$cmd, was '" + collection + "'");
        }
        // Drivers wrap a legacy command with read preference as {$query: {...}, $readPreference: ...}.
        if (query.get("$query") instanceof Document wrapped) {
            query = wrapped;
        }
        return new WireMessage(requestId, true, false, collection.substring(0, dot), query);
    }

    private static Document readDocument(ByteBuffer buffer, int end) {
        int start = buffer.position();
        if (end - start < 5) {
            throw new WireProtocolException("document: " + (end - start) + " bytes left, too few for a BSON document");
        }
        int size = buffer.getInt(start);
        if (size < 5 || start + size > end) {
            throw new WireProtocolException("document: a BSON document of " + size + " bytes overruns its section");
        }
        ByteBuffer slice = buffer.duplicate().position(start).limit(start + size).slice().order(ByteOrder.LITTLE_ENDIAN);
        try (BsonBinaryReader reader = new BsonBinaryReader(slice)) {
            Document document = DOCUMENTS.decode(reader, DecoderContext.builder().build());
            buffer.position(start + size);
            return document;
        }
    }

    private static String readCString(ByteBuffer buffer, int end) {
        int start = buffer.position();
        for (int i = start; i < end; i++) {
            if (buffer.get(i) == 0) {
                String value = new String(buffer.array(), buffer.arrayOffset() + start, i - start, StandardCharsets.UTF_8);
                buffer.position(i + 1);
                return value;
            }
        }
        throw new WireProtocolException("cstring: no terminating NUL before the end of its section");
    }

    /** A document encoded once, so that its size is known before it is placed in a reply. */
    public static RawBsonDocument raw(Document document) {
        return new RawBsonDocument(document, DOCUMENTS);
    }

    /** The {@code OP_MSG} reply (or, to a legacy request, the {@code OP_REPLY}) carrying {@code reply}. */
    public static byte[] encodeReply(int responseTo, boolean legacy, Document reply) {
        BasicOutputBuffer out = new BasicOutputBuffer(256);
        out.writeInt32(0); // length, set below
        out.writeInt32(0); // requestID: replies need none
        out.writeInt32(responseTo);
        if (legacy) {
            out.writeInt32(OP_REPLY);
            out.writeInt32(0); // responseFlags
            out.writeInt64(0); // cursorID
            out.writeInt32(0); // startingFrom
            out.writeInt32(1); // numberReturned
        } else {
            out.writeInt32(OP_MSG);
            out.writeInt32(0); // flagBits
            out.writeByte(0); // section kind 0: the body
        }
        try (BsonBinaryWriter writer = new BsonBinaryWriter(out)) {
            DOCUMENTS.encode(writer, reply, EncoderContext.builder().build());
        }
        out.writeInt32(0, out.getPosition());
        return out.toByteArray();
    }
}
