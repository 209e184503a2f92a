const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `s` has the shape of a UUID: ids from URLs and commands are checked before any query. */
export const isUuid = (s: string): boolean => UUID.test(s);
