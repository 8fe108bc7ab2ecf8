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

/**
 * An argv from a template: the literal text split on white space, each
 * interpolated value one argument as it is (so paths with spaces stay whole).
 */
function argv(strings: TemplateStringsArray, ...values: string[]): string[] {
  return strings.flatMap((text, i) => [
    ...text.split(/\s+/).filter((word) => word !== ""),
    ...(i < values.length ? [values[i]!] : []),
  ]);
}

/** Makes a CA and a leaf certificate in `dir`. */
export async function makeTestCertificate(
  dir: string,
): Promise<TestCertificate> {
  const caKey = `${dir}/ca.key`, caCert = `${dir}/ca.pem`;
  const keyPath = `${dir}/key.pem`, csr = `${dir}/leaf.csr`;
  const ext = `${dir}/leaf.ext`, certPath = `${dir}/cert.pem`;
  await run(argv`openssl req -x509 -newkey rsa:2048 -nodes -days 1
    -subj ${"/CN=onehub test CA"}
    -addext basicConstraints=critical,CA:TRUE
    -addext keyUsage=critical,keyCertSign,cRLSign
    -keyout ${caKey} -out ${caCert}`);
  await run(argv`openssl req -newkey rsa:2048 -nodes -subj /CN=localhost
    -keyout ${keyPath} -out ${csr}`);
  await Deno.writeTextFile(
    ext,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  await run(argv`openssl x509 -req -in ${csr} -CA ${caCert} -CAkey ${caKey}
    -CAcreateserial -days 1 -extfile ${ext} -out ${certPath}`);
  return { caPem: await Deno.readTextFile(caCert), certPath, keyPath };
}
