/** TCP ports for test servers (sshd) on 127.0.0.1. */
import * as net from 'node:net';

/** A port nothing listens on right now (another process may still take it before you bind). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
