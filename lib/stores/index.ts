/** The token stores: the interface, its runtime check, and the three implementations that ship. */
export * from './types';
export { MemoryStore, type MemoryStoreOptions } from './memory';
export { SqliteStore, SQLITE_SCHEMA_VERSION, type SqliteStoreOptions, type SqliteDatabase } from './sqlite';
export { RedisStore, type RedisStoreOptions, type RedisWarning, type SendCommand, type RedisCommand, type IoRedisLike } from './redis';
