/**
 * A throwaway certificate authority and a leaf certificate for 127.0.0.1 and
 * localhost, made with openssl into `dir`: `makeTestCertificate(dir)` returns
 * the CA (for `Deno.createHttpClient({ caCerts })`) and the leaf's files.
 * (rustls refuses a self-signed CA used directly as the server certificate.)
 *
 * @module
 */
import { run } from "./system_users.ts";

/** The files made. */
export interface TestCertificate {
  caPem: string;
  certPath: string;
  keyPath: string;
}

/** Makes a CA and a leaf certificate in `dir`. */
export async function makeTestCertificate(
  dir: string,
): Promise<TestCertificate> {
  const days = ["-days", "1"];
  await run([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    ...days,
    "-subj",
    "/CN=onehub test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout",
    `${dir}/ca.key`,
    "-out",
    `${dir}/ca.pem`,
  ]);
  await run([
    "openssl",
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    `${dir}/key.pem`,
    "-out",
    `${dir}/leaf.csr`,
  ]);
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  await run([
    "openssl",
    "x509",
    "-req",
    "-in",
    `${dir}/leaf.csr`,
    "-CA",
    `${dir}/ca.pem`,
    "-CAkey",
    `${dir}/ca.key`,
    "-CAcreateserial",
    ...days,
    "-extfile",
    `${dir}/leaf.ext`,
    "-out",
    `${dir}/cert.pem`,
  ]);
  return {
    caPem: await Deno.readTextFile(`${dir}/ca.pem`),
    certPath: `${dir}/cert.pem`,
    keyPath: `${dir}/key.pem`,
  };
}
