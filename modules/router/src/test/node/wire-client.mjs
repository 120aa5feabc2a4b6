// Drives the wire router with the Node.js MongoDB driver and Mongoose, as a Node.js service would, and prints what it
// saw as one JSON line for WireNodeClientIT to check. Usage: node wire-client.mjs <mongodb-uri> <database>
import { MongoClient } from 'mongodb';
import mongoose from 'mongoose';

const [uri, dbName] = process.argv.slice(2);
const seen = {};

const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10000 });
await client.connect();
const users = client.db(dbName).collection('node_users');
await users.insertMany(Array.from({ length: 60 }, (_, i) => ({ _id: `n${String(i).padStart(2, '0')}`, tenantId: `t${i % 3}`, age: i % 7 })));
seen.count = await users.countDocuments();
seen.sortedIds = (await users.find({}, { batchSize: 4 }).sort({ age: 1, _id: 1 }).toArray()).map((d) => d._id);
seen.groups = await users.aggregate([{ $group: { _id: '$tenantId', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray();
seen.distinct = (await users.distinct('tenantId')).sort();
seen.modified = (await users.updateMany({ age: 3 }, { $set: { flag: true } })).modifiedCount;
try {
  await users.insertMany([{ _id: 'n70', tenantId: 't1' }, { _id: 'n01', tenantId: 't1' }, { _id: 'n71', tenantId: 't1' }]);
} catch (e) {
  seen.duplicate = { code: e.writeErrors?.[0]?.code ?? e.code, index: e.writeErrors?.[0]?.index, inserted: e.result?.insertedCount };
}
seen.deleted = (await users.deleteMany({ tenantId: 't2' })).deletedCount;
try {
  await client.db(dbName).command({ frobnicate: 1 });
} catch (e) {
  seen.unknownCommand = { code: e.code, codeName: e.codeName };
}
await client.close();

await mongoose.connect(uri, { dbName, autoCreate: false, autoIndex: false, serverSelectionTimeoutMS: 10000 });
const Session = mongoose.model('Session', new mongoose.Schema({ _id: String, tenantId: String, userId: String, lastSeenAt: Date }),
  'node_sessions');
await Session.create([
  { _id: 's1', tenantId: 't0', userId: 'n00', lastSeenAt: new Date(1000) },
  { _id: 's2', tenantId: 't0', userId: 'n03', lastSeenAt: new Date(3000) },
  { _id: 's3', tenantId: 't1', userId: 'n01', lastSeenAt: new Date(2000) },
]);
seen.mongooseSessions = (await Session.find({ tenantId: 't0' }).sort({ lastSeenAt: -1 }).lean()).map((s) => s._id);
await Session.updateOne({ _id: 's1', tenantId: 't0' }, { $set: { lastSeenAt: new Date(5000) } });
seen.mongooseLatest = (await Session.findOne({ tenantId: 't0' }).sort({ lastSeenAt: -1 }).lean())._id;

// A sign-up across shards as one transaction (a user, hashed by _id, and a session, by tenant), then one that throws.
const User = mongoose.model('User', new mongoose.Schema({ _id: String, tenantId: String, plan: String, logins: Number }), 'node_users');
await mongoose.connection.transaction(async (session) => {
  await User.create([{ _id: 'tx-u1', tenantId: 't1', plan: 'free', logins: 0 }], { session });
  await Session.create([{ _id: 'tx-s1', tenantId: 't1', userId: 'tx-u1', lastSeenAt: new Date(7000) }], { session });
  seen.txUpdated = (await User.findOneAndUpdate({ _id: 'tx-u1' }, { $inc: { logins: 1 } }, { session, new: true }).lean()).logins;
  seen.txCountInside = await User.countDocuments({ _id: 'tx-u1' }).session(session);
  seen.txCountOutside = await User.countDocuments({ _id: 'tx-u1' });
});
seen.txCommitted = { logins: (await User.findById('tx-u1').lean())?.logins, userId: (await Session.findById('tx-s1').lean())?.userId };
try {
  await mongoose.connection.transaction(async (session) => {
    await User.create([{ _id: 'tx-u2', tenantId: 't1', plan: 'free', logins: 0 }], { session });
    await Session.deleteOne({ _id: 'tx-s1', tenantId: 't1' }, { session });
    throw new Error('changed its mind');
  });
} catch (e) {
  seen.txAbortError = e.message;
}
seen.txAborted = { users: await User.countDocuments({ _id: 'tx-u2' }), sessions: await Session.countDocuments({ _id: 'tx-s1' }) };
await mongoose.disconnect();

console.log(JSON.stringify(seen));
