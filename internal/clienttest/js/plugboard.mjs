// What the client tests share: the server the Go test started, the key it made, and names
// no other run uses.
import { createHash, randomBytes } from 'node:crypto';

export const url = process.env.PLUGBOARD_URL;
export const key = process.env.PLUGBOARD_KEY;
if (!url || !key) throw new Error('run through clients_test.go: PLUGBOARD_URL and PLUGBOARD_KEY are unset');

export const headers = { Authorization: `Bearer ${key}` };
export const sha256 = (text) => createHash('sha256').update(text).digest('hex');
export const unique = (prefix) => `${prefix} ${randomBytes(4).toString('hex')}`;

// countingFetch records every request a client library makes.
export function countingFetch() {
  const requests = [];
  const fetchFn = async (input, init = {}) => {
    const res = await fetch(input, init);
    const body = await res.clone().text();
    requests.push({ method: init.method || 'GET', url: String(input), status: res.status, body });
    return res;
  };
  return { requests, fetchFn };
}
