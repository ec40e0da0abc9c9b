'use strict';
// Shared test helpers: a loopback guard, a local HTTP server (used as a fake API offline and
// as Zapier's hook catcher in the live tests), and a small app-tester wrapper.
const http = require('node:http');
const net = require('node:net');
const zapier = require('zapier-platform-core');
const App = require('../index');

// Record every outgoing TCP connection made by this process (node-fetch, used by the SDK,
// goes through http/https -> net.Socket#connect). Tests assert they all stayed on loopback.
const connections = [];
const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  const [first] = args;
  const options = Array.isArray(first) ? first[0] : first; // internal calls pass [options, cb]
  if (options && typeof options === 'object' && !options.path) {
    connections.push(options.host || 'localhost');
  } else if (typeof first === 'number') {
    connections.push(typeof args[1] === 'string' ? args[1] : 'localhost');
  }
  return originalConnect.apply(this, args);
};
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);
const nonLoopbackConnections = () => connections.filter((host) => !LOOPBACK.has(host));

// A local server: records each request (method, url, headers, parsed JSON body) and answers
// with `respond(req, body)` -> {status, json, headers} (default 200 {}).
const startServer = async (respond = () => ({})) => {
  const requests = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      let body = raw;
      try { body = raw ? JSON.parse(raw) : undefined; } catch { /* keep text */ }
      const record = { method: req.method, url: req.url, headers: req.headers, body };
      requests.push(record);
      const { status = 200, json = {}, headers = {} } = respond(record) || {};
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(status === 204 ? undefined : JSON.stringify(json));
      waiters.splice(0).forEach((wake) => wake());
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  // Resolve with the first recorded request matching `predicate`, waiting up to timeoutMs.
  const waitFor = (predicate, timeoutMs = 30000) =>
    new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no matching request within ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        const found = requests.find(predicate);
        if (found) {
          clearTimeout(deadline);
          resolve(found);
        } else waiters.push(check);
      };
      check();
    });
  const close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); });
  return { url, requests, waitFor, close };
};

const appTester = zapier.createAppTester(App);

// Run an app operation ('triggers.assign_tag.operation.perform', or an ad-hoc (z, bundle) function).
const run = (method, authData, inputData = {}, extra = {}) =>
  appTester(method, { authData, inputData, meta: {}, ...extra });

// The user-facing message of a z.errors.Error (core serializes it as JSON).
const errorMessage = (err) => {
  try { return JSON.parse(err.message).message; } catch { return err.message; }
};

module.exports = { App, run, startServer, errorMessage, nonLoopbackConnections, connections };
