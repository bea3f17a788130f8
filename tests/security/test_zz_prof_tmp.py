import cProfile, pstats
from tests.security.test_authorization_matrix import *  # noqa
from tests.security.test_authorization_matrix import _check

def test_prof(world, client, monkeypatch, settings):
    role = "administrator"
    user = world.users.get(role)
    asker = Asker(client, user, monkeypatch)
    routes = [route for route in m.all_routes() if route.key in m.EXPECTED]
    pr = cProfile.Profile(); pr.enable()
    for route in routes:
        _check(asker, role, route.key, route, world, m.EXPECTED[route.key][role])
    pr.disable()
    pstats.Stats(pr).sort_stats("cumulative").print_stats(70)
