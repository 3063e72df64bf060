package io.capstan.ui;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import org.eclipse.elk.alg.layered.options.LayeredMetaDataProvider;
import org.eclipse.elk.alg.layered.options.LayeredOptions;
import org.eclipse.elk.alg.layered.options.NodePlacementStrategy;
import org.eclipse.elk.core.RecursiveGraphLayoutEngine;
import org.eclipse.elk.core.data.LayoutMetaDataService;
import org.eclipse.elk.core.options.CoreOptions;
import org.eclipse.elk.core.options.Direction;
import org.eclipse.elk.core.options.EdgeRouting;
import org.eclipse.elk.core.util.BasicProgressMonitor;
import org.eclipse.elk.graph.ElkNode;
import org.eclipse.elk.graph.util.ElkGraphUtil;

/**
 * Places a {@link Dag}'s nodes with ELK Layered, top to bottom, and keeps the result per {@link Dag#key()} (one per
 * pipeline version), so that only the first view of a pipeline pays for the layout. Concurrent first views of the same
 * pipeline share one computation.
 */
final class DagLayout {
    static final int NODE_HEIGHT = 36;
    private static final int MAX_CACHED = 128;

    record Box(double x, double y, double width, double height) {
    }

    record Path(String from, String to, List<double[]> points) {
    }

    /** Where each node and edge goes; {@code width} and {@code height} bound the drawing. */
    record Placed(Map<String, Box> boxes, List<Path> edges, double width, double height) {
    }

    static {
        LayoutMetaDataService.getInstance().registerLayoutMetaDataProviders(new LayeredMetaDataProvider());
    }

    /** Above this many nodes a layout is laid out ahead of the first view, and with the cheaper strategies. */
    static final int LARGE = 300;
    private static final int MAX_QUEUED = 16;

    private final Map<String, CompletableFuture<Placed>> cache = new ConcurrentHashMap<>();
    /** One background thread lays out large pipelines as their runs appear, so that their first view finds them ready. */
    private final java.util.concurrent.ThreadPoolExecutor ahead = new java.util.concurrent.ThreadPoolExecutor(1, 1, 30, java.util.concurrent.TimeUnit.SECONDS,
            new java.util.concurrent.ArrayBlockingQueue<>(MAX_QUEUED), Thread.ofPlatform().daemon().name("ui-layout-ahead").priority(Thread.MIN_PRIORITY).factory(),
            new java.util.concurrent.ThreadPoolExecutor.DiscardPolicy());

    DagLayout() {
        ahead.allowCoreThreadTimeOut(true);
    }
    private final java.util.Deque<String> order = new java.util.concurrent.ConcurrentLinkedDeque<>();

    /** Whether {@code dag}'s layout is ready without computing. */
    boolean isCached(Dag dag) {
        var f = cache.get(dag.key());
        return f != null && f.isDone() && !f.isCompletedExceptionally();
    }

    /**
     * Starts laying out a large {@code dag} in the background unless it is cached or being laid out; a page that asks
     * meanwhile waits for the same computation. Small ones are laid out when first viewed, in a few milliseconds.
     */
    void layOutAhead(Dag dag) {
        if (dag.nodes().size() <= LARGE || cache.containsKey(dag.key())) return;
        ahead.execute(() -> {
            try {
                layout(dag);
            } catch (RuntimeException e) {
                System.getLogger(DagLayout.class.getName()).log(System.Logger.Level.DEBUG, "laying out a pipeline ahead failed; its run page will try again", e);
            }
        });
    }

    void close() {
        ahead.shutdownNow();
    }

    Placed layout(Dag dag) {
        var mine = new CompletableFuture<Placed>();
        var existing = cache.putIfAbsent(dag.key(), mine);
        if (existing == null) {
            order.add(dag.key());
            while (order.size() > MAX_CACHED) {
                var eldest = order.poll();
                if (eldest != null) cache.remove(eldest);
            }
            try {
                mine.complete(compute(dag));
            } catch (RuntimeException e) {
                cache.remove(dag.key(), mine);
                mine.completeExceptionally(e);
                throw e;
            }
            return mine.join();
        }
        try {
            return existing.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the layout of a pipeline", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the layout of a pipeline failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** Lays out a small graph once, so that ELK's classes are loaded before a user waits for them. */
    static void warmUp() {
        try {
            var nodes = List.of(new Dag.Node("a", "", Dag.Kind.TASK), new Dag.Node("b", "", Dag.Kind.TASK), new Dag.Node("c", "", Dag.Kind.TASK));
            compute(new Dag(nodes, List.of(new Dag.Edge("a", "b"), new Dag.Edge("a", "c")), "warm-up"));
        } catch (RuntimeException e) {
            System.getLogger(DagLayout.class.getName()).log(System.Logger.Level.DEBUG, "warming up the layout failed; the first run page will load ELK", e);
        }
    }

    static double nodeWidth(String label) {
        return Math.min(240, Math.max(120, 24 + 7.2 * label.length()));
    }

    static Placed compute(Dag dag) {
        ElkNode root = ElkGraphUtil.createGraph();
        root.setProperty(CoreOptions.ALGORITHM, LayeredOptions.ALGORITHM_ID);
        root.setProperty(CoreOptions.DIRECTION, Direction.DOWN);
        root.setProperty(CoreOptions.EDGE_ROUTING, EdgeRouting.POLYLINE);
        root.setProperty(LayeredOptions.SPACING_NODE_NODE, 24.0);
        root.setProperty(LayeredOptions.SPACING_NODE_NODE_BETWEEN_LAYERS, 40.0);
        // Large pipelines: one crossing-minimisation sweep, the simple node placer and one graph for all components
        // (no packing pass): about half the CPU time of Brandes-Koepf at 2000 nodes. Longest-path layering is not
        // cheaper here: its long edges add dummy nodes that cost more downstream than network simplex saves.
        boolean large = dag.nodes().size() > LARGE;
        root.setProperty(LayeredOptions.THOROUGHNESS, large ? 1 : 7);
        if (large) {
            root.setProperty(LayeredOptions.NODE_PLACEMENT_STRATEGY, NodePlacementStrategy.SIMPLE);
            root.setProperty(LayeredOptions.SEPARATE_CONNECTED_COMPONENTS, false);
        }
        root.setProperty(CoreOptions.PADDING, new org.eclipse.elk.core.math.ElkPadding(16));
        var elkNodes = new HashMap<String, ElkNode>();
        for (var n : dag.nodes()) {
            var node = ElkGraphUtil.createNode(root);
            node.setIdentifier(n.name());
            node.setWidth(nodeWidth(n.name()));
            node.setHeight(NODE_HEIGHT);
            elkNodes.put(n.name(), node);
        }
        var elkEdges = new ArrayList<org.eclipse.elk.graph.ElkEdge>();
        for (var e : dag.edges()) {
            elkEdges.add(ElkGraphUtil.createSimpleEdge(elkNodes.get(e.from()), elkNodes.get(e.to())));
        }
        new RecursiveGraphLayoutEngine().layout(root, new BasicProgressMonitor());
        var boxes = new LinkedHashMap<String, Box>();
        for (var n : dag.nodes()) {
            var node = elkNodes.get(n.name());
            boxes.put(n.name(), new Box(node.getX(), node.getY(), node.getWidth(), node.getHeight()));
        }
        var paths = new ArrayList<Path>();
        for (int i = 0; i < dag.edges().size(); i++) {
            var e = dag.edges().get(i);
            var points = new ArrayList<double[]>();
            for (var section : elkEdges.get(i).getSections()) {
                points.add(new double[]{section.getStartX(), section.getStartY()});
                for (var bend : section.getBendPoints()) points.add(new double[]{bend.getX(), bend.getY()});
                points.add(new double[]{section.getEndX(), section.getEndY()});
            }
            paths.add(new Path(e.from(), e.to(), points));
        }
        return new Placed(boxes, paths, root.getWidth(), root.getHeight());
    }
}
